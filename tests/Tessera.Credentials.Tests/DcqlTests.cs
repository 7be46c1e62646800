using System.Text.Json.Nodes;
using Tessera.Credentials.Dcql;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Vc;
using static Tessera.Credentials.Tests.Infrastructure.TestCredentials;

namespace Tessera.Credentials.Tests;

public sealed class DcqlTests
{
    private static DcqlCredentialQuery Query(string json)
    {
        var query = DcqlQuery.Parse(JsonNode.Parse(json));
        Assert.True(query.Succeeded, query.Failure?.ToString());
        return query.Value!.Credentials[0];
    }

    private static readonly string Over21 = $$"""
        {"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["{{Vct}}"]},
          "claims":[{"path":["age_equal_or_over","21"],"values":[true]}]}]}
        """;

    private static HeldSdJwt Held(IssuedSdJwt issued) => SdJwtHolder.Read(issued.Serialized).Value!;

    private static async Task<VerifiedCredential> PresentAndVerify(IssuedSdJwt issued, IEnumerable<Disclosure> disclosures, bool keyBound = true)
    {
        var presentation = new SdJwtHolder(Clock()).Present(Held(issued), disclosures, keyBound ? KeyBinding : null);
        var policy = new SdJwtVcVerificationPolicy { SdJwt = new SdJwtVerificationPolicy { RequireKeyBinding = keyBound } };
        var result = await new SdJwtVcVerifier(Clock()).VerifyAsync(presentation, Trust, policy, keyBound ? Expectation : null);
        Assert.True(result.Succeeded, result.Failure?.ToString());
        return result.Value!;
    }

    [Fact]
    public async Task Holder_selects_exactly_the_disclosures_for_over_21_and_the_verifier_finds_the_query_answered()
    {
        var issued = SdJwtVcTests.IssueAge();
        var query = Query(Over21);

        var selected = DcqlEvaluator.SelectDisclosures(query, Held(issued));

        Assert.True(selected.Succeeded, selected.Failure?.ToString());
        Assert.Equal(["21", "age_equal_or_over"], selected.Value!.Select(d => d.ClaimName).Order(StringComparer.Ordinal));
        var credential = await PresentAndVerify(issued, selected.Value!);
        var match = DcqlEvaluator.Match(query, credential);
        Assert.True(match.Succeeded, match.Failure?.ToString());
        Assert.Equal(ClaimPath.Of("age_equal_or_over", "21"), Assert.Single(match.Value!.Claims).Path);
        Assert.False(credential.Claims["age_equal_or_over"]!.AsObject().ContainsKey("18"));
    }

    [Fact]
    public async Task A_presentation_without_the_asked_claim_does_not_answer_the_query()
    {
        var issued = SdJwtVcTests.IssueAge();
        var only18 = Held(issued).DisclosuresFor([ClaimPath.Of("age_equal_or_over", "18")]).Value!;

        var credential = await PresentAndVerify(issued, only18);

        Assert.Equal(CredentialError.QueryNotSatisfied, DcqlEvaluator.Match(Query(Over21), credential).Error);
    }

    [Fact]
    public async Task A_query_requiring_holder_binding_is_not_answered_by_a_presentation_without_it()
    {
        var issued = SdJwtVcTests.IssueAge();
        var query = Query(Over21);
        var credential = await PresentAndVerify(issued, DcqlEvaluator.SelectDisclosures(query, Held(issued)).Value!, keyBound: false);

        Assert.Equal(CredentialError.QueryNotSatisfied, DcqlEvaluator.Match(query, credential).Error);
    }

    [Fact]
    public void A_value_the_credential_does_not_hold_is_not_satisfiable()
    {
        var query = Query($$"""
            {"credentials":[{"id":"p","format":"dc+sd-jwt","meta":{"vct_values":["{{Vct}}"]},
              "claims":[{"path":["address","country"],"values":["FR","IT"]}]}]}
            """);
        Assert.Equal(CredentialError.QueryNotSatisfied, DcqlEvaluator.SelectDisclosures(query, Held(IssuePerson())).Error);
    }

    [Fact]
    public void Another_vct_is_not_satisfiable()
    {
        var query = Query("""{"credentials":[{"id":"p","format":"dc+sd-jwt","meta":{"vct_values":["https://other.example/vct"]}}]}""");
        Assert.Equal(CredentialError.QueryNotSatisfied, DcqlEvaluator.SelectDisclosures(query, Held(IssuePerson())).Error);
    }

    [Fact]
    public void Claim_sets_fall_back_to_the_first_one_the_credential_can_satisfy()
    {
        var query = Query($$"""
            {"credentials":[{"id":"p","format":"dc+sd-jwt","meta":{"vct_values":["{{Vct}}"]},
              "claims":[{"id":"birth","path":["birthdate"]},{"id":"over18","path":["age_equal_or_over","18"]},{"id":"mail","path":["email"]}],
              "claim_sets":[["birth"],["over18","mail"]]}]}
            """);

        var selected = DcqlEvaluator.SelectDisclosures(query, Held(IssuePerson())).Value!;

        Assert.Equal(["18", "age_equal_or_over", "email"], selected.Select(d => d.ClaimName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Null_in_a_path_selects_every_array_element()
    {
        var query = Query($$"""
            {"credentials":[{"id":"p","format":"dc+sd-jwt","meta":{"vct_values":["{{Vct}}"]},
              "claims":[{"path":["nationalities",null]}]}]}
            """);

        var selected = DcqlEvaluator.SelectDisclosures(query, Held(IssuePerson())).Value!;

        Assert.Equal(2, selected.Count);
        Assert.All(selected, d => Assert.True(d.IsArrayElement));
    }

    [Fact]
    public void A_query_for_no_claims_discloses_nothing()
    {
        var query = Query($$$"""{"credentials":[{"id":"p","format":"dc+sd-jwt","meta":{"vct_values":["{{{Vct}}}"]}}]}""");
        Assert.Empty(DcqlEvaluator.SelectDisclosures(query, Held(IssuePerson())).Value!);
    }

    public static TheoryData<string, string> MalformedQueries => new()
    {
        { "no_credentials", """{"credentials":[]}""" },
        { "not_an_object", "[]" },
        { "id_with_a_space", """{"credentials":[{"id":"a b","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]}""" },
        { "duplicate_ids", """{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}},{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]}""" },
        { "no_meta", """{"credentials":[{"id":"a","format":"dc+sd-jwt"}]}""" },
        { "empty_vct_values", """{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":[]}}]}""" },
        { "empty_path", """{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]},"claims":[{"path":[]}]}]}""" },
        { "negative_index_in_path", """{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]},"claims":[{"path":["n",-1]}]}]}""" },
        { "object_in_values", """{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]},"claims":[{"path":["n"],"values":[{}]}]}]}""" },
        { "claim_set_naming_an_unknown_claim", """{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]},"claims":[{"id":"c","path":["n"]}],"claim_sets":[["d"]]}]}""" },
        { "claim_sets_without_claim_ids", """{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]},"claims":[{"path":["n"]}],"claim_sets":[["c"]]}]}""" },
        { "multiple_as_a_string", """{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]},"multiple":"yes"}]}""" },
    };

    [Theory]
    [MemberData(nameof(MalformedQueries))]
    public void Malformed_query_is_refused(string attack, string json) =>
        Assert.True(DcqlQuery.Parse(JsonNode.Parse(json)).Error == CredentialError.QueryMalformed, attack);
}
