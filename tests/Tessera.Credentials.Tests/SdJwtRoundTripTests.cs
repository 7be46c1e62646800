using System.Text.Json.Nodes;
using Tessera.Credentials.SdJwt;
using static Tessera.Credentials.Tests.Infrastructure.TestCredentials;

namespace Tessera.Credentials.Tests;

public sealed class SdJwtRoundTripTests
{
    [Fact]
    public void Issued_payload_hides_every_disclosable_claim_behind_sorted_digests()
    {
        var issued = IssuePerson();
        var payload = DecodePayload(issued.IssuerSignedJwt);

        foreach (var hidden in new[] { "given_name", "family_name", "email", "address", "age_equal_or_over" })
        {
            Assert.False(payload.ContainsKey(hidden), hidden);
        }

        Assert.Equal("sha-256", payload["_sd_alg"]!.GetValue<string>());
        var digests = payload["_sd"]!.AsArray().Select(d => d!.GetValue<string>()).ToList();
        Assert.Equal(digests.OrderBy(d => d, StringComparer.Ordinal), digests);
        Assert.True(digests.Count > 5, "five top-level disclosures plus at least one decoy");
        Assert.All(payload["nationalities"]!.AsArray(), element => Assert.True(element!.AsObject().ContainsKey("...")));
        Assert.Equal(Vct, payload["vct"]!.GetValue<string>());
        Assert.NotNull(payload["cnf"]!["jwk"]!["x"]);
        Assert.Null(payload["cnf"]!["jwk"]!["d"]);
    }

    [Fact]
    public void Issued_header_is_typed_dc_sd_jwt()
    {
        var header = JsonNode.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(IssuePerson().IssuerSignedJwt.Split('.')[0]))!;
        Assert.Equal("dc+sd-jwt", header["typ"]!.GetValue<string>());
        Assert.Equal("ES256", header["alg"]!.GetValue<string>());
    }

    [Fact]
    public void Each_disclosable_claim_gets_one_disclosure_with_nested_ones_for_the_age_booleans()
    {
        var issued = IssuePerson();
        // given_name, family_name, email, 2 nationalities, address, street_address, age_equal_or_over, 18, 21
        Assert.Equal(10, issued.Disclosures.Count);
        var age = issued.Disclosures.Single(d => d.ClaimName == "age_equal_or_over");
        Assert.InRange(age.Value!.AsObject()["_sd"]!.AsArray().Count, 3, 5); // two members and one to three decoys
        Assert.False(age.Value!.AsObject().ContainsKey("21"));
    }

    [Fact]
    public async Task Holder_presents_all_and_verifier_sees_the_issued_claims()
    {
        var issued = IssuePerson();
        var presentation = Present(issued, PersonDisclosable, KeyBinding);

        var result = await Verify(presentation);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var claims = result.Value!.Claims;
        var expected = PersonClaims();
        foreach (var (name, value) in expected)
        {
            Assert.True(JsonNode.DeepEquals(value, claims[name]), name);
        }

        Assert.False(claims.ContainsKey("_sd"));
        Assert.False(claims.ContainsKey("_sd_alg"));
        Assert.True(result.Value.KeyBound);
    }

    [Fact]
    public async Task Presenting_only_over_21_reveals_only_that_boolean()
    {
        var issued = IssuePerson();
        var presentation = Present(issued, [ClaimPath.Of("age_equal_or_over", "21")], KeyBinding);

        var result = await Verify(presentation);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var claims = result.Value!.Claims;
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["21"] = true }, claims["age_equal_or_over"]));
        foreach (var hidden in new[] { "given_name", "family_name", "email", "address" })
        {
            Assert.False(claims.ContainsKey(hidden), hidden);
        }

        Assert.Empty(claims["nationalities"]!.AsArray());
        Assert.Equal(2, result.Value.Disclosed.Count); // the parent object and the one member
    }

    [Fact]
    public async Task Presenting_one_array_element_keeps_only_that_element()
    {
        var issued = IssuePerson();
        var presentation = Present(issued, [ClaimPath.Of("nationalities", 1)], KeyBinding);

        var result = await Verify(presentation);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.True(JsonNode.DeepEquals(new JsonArray("FR"), result.Value!.Claims["nationalities"]));
    }

    [Fact]
    public async Task Presenting_an_object_claim_brings_its_nested_disclosures()
    {
        var issued = IssuePerson();
        var presentation = Present(issued, [ClaimPath.Of("address")], KeyBinding);

        var result = await Verify(presentation);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("Schulstr. 12", result.Value!.Claims["address"]!["street_address"]!.GetValue<string>());
    }

    [Fact]
    public async Task Presentation_without_key_binding_is_accepted_when_the_policy_allows_it()
    {
        var presentation = Present(IssuePerson(holderBound: false), [ClaimPath.Of("email")]);
        Assert.EndsWith("~", presentation);

        var result = await Verify(presentation, new SdJwtVerificationPolicy { RequireKeyBinding = false }, noExpectation: true);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.False(result.Value!.KeyBound);
        Assert.Equal("erika@stmarys.example", result.Value.Claims["email"]!.GetValue<string>());
    }

    [Fact]
    public void Key_binding_jwt_carries_aud_nonce_iat_and_the_hash_of_what_precedes_it()
    {
        var presentation = Present(IssuePerson(), [ClaimPath.Of("email")], KeyBinding);
        var lastTilde = presentation.LastIndexOf('~');
        var kb = presentation[(lastTilde + 1)..];

        var header = JsonNode.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(kb.Split('.')[0]))!;
        var payload = DecodePayload(kb);
        Assert.Equal("kb+jwt", header["typ"]!.GetValue<string>());
        Assert.Equal(Verifier, payload["aud"]!.GetValue<string>());
        Assert.Equal(Nonce, payload["nonce"]!.GetValue<string>());
        Assert.Equal(Now.ToUnixTimeSeconds(), payload["iat"]!.GetValue<long>());
        Assert.Equal(DigestAlgorithm.Sha256.Digest(presentation[..(lastTilde + 1)]), payload["sd_hash"]!.GetValue<string>());
    }

    [Fact]
    public void Issuing_refuses_a_disclosable_path_that_names_no_claim()
    {
        var result = new SdJwtIssuer().Issue(new SdJwtIssuance { Claims = PersonClaims(), Disclosable = [ClaimPath.Of("birthdate")], Type = "dc+sd-jwt" }, IssuerSigning);
        Assert.Equal(CredentialError.DisclosablePathNotFound, result.Error);
    }

    [Fact]
    public void Issuing_refuses_claims_that_use_reserved_names()
    {
        var claims = PersonClaims();
        claims["address"]!.AsObject()["_sd"] = new JsonArray("x");
        var result = new SdJwtIssuer().Issue(new SdJwtIssuance { Claims = claims, Type = "dc+sd-jwt" }, IssuerSigning);
        Assert.Equal(CredentialError.ReservedClaimName, result.Error);
    }

    [Fact]
    public void Holder_refuses_to_select_a_claim_the_credential_does_not_have()
    {
        var held = SdJwtHolder.Read(IssuePerson().Serialized).Value!;
        Assert.Equal(CredentialError.QueryNotSatisfied, held.DisclosuresFor([ClaimPath.Of("birthdate")]).Error);
    }
}
