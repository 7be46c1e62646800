using System.Text.Json.Nodes;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Status;
using Tessera.Credentials.Vc;
using static Tessera.Credentials.Tests.Infrastructure.TestCredentials;

namespace Tessera.Credentials.Tests;

public sealed class SdJwtVcTests
{
    private const string ListUri = "https://tessera.example/statuslists/1";

    private static readonly SdJwtVcVerificationPolicy Policy = new() { AllowedVcts = [Vct] };

    /// <summary>The age credential Tessera ships: two nested booleans, each disclosable on its own, no birth date.</summary>
    public static IssuedSdJwt IssueAge(long statusIndex = 5)
    {
        var result = new SdJwtVcIssuer(Clock()).Issue(new SdJwtVcIssuance
        {
            Vct = Vct,
            Issuer = Issuer,
            Claims = new JsonObject { ["age_equal_or_over"] = new JsonObject { ["18"] = true, ["21"] = true } },
            Disclosable = [ClaimPath.Of("age_equal_or_over"), ClaimPath.Of("age_equal_or_over", "18"), ClaimPath.Of("age_equal_or_over", "21")],
            Lifetime = TimeSpan.FromDays(30),
            HolderKey = HolderPublicJwk,
            Status = new StatusReference(statusIndex, ListUri),
        }, IssuerSigning);
        Assert.True(result.Succeeded, result.Failure?.ToString());
        return result.Value!;
    }

    [Fact]
    public void An_issued_vc_keeps_iss_vct_times_cnf_and_status_in_the_clear()
    {
        var payload = DecodePayload(IssueAge().IssuerSignedJwt);

        Assert.Equal(Issuer, payload["iss"]!.GetValue<string>());
        Assert.Equal(Vct, payload["vct"]!.GetValue<string>());
        Assert.Equal(Now.ToUnixTimeSeconds(), payload["iat"]!.GetValue<long>());
        Assert.Equal(Now.AddDays(30).ToUnixTimeSeconds(), payload["exp"]!.GetValue<long>());
        Assert.Equal(5, payload["status"]!["status_list"]!["idx"]!.GetValue<long>());
        Assert.NotNull(payload["cnf"]!["jwk"]);
        Assert.False(payload.ContainsKey("age_equal_or_over"));
    }

    [Fact]
    public async Task Over_21_alone_verifies_and_reveals_nothing_else()
    {
        var presentation = Present(IssueAge(), [ClaimPath.Of("age_equal_or_over", "21")], KeyBinding);

        var result = await new SdJwtVcVerifier(Clock()).VerifyAsync(presentation, Trust, Policy, Expectation);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(Vct, result.Value!.Vct);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["21"] = true }, result.Value.Claims["age_equal_or_over"]));
        Assert.Equal(new StatusReference(5, ListUri), result.Value.Status);
        Assert.Equal(["age_equal_or_over", "cnf", "exp", "iat", "iss", "status", "vct"], result.Value.Claims.Select(c => c.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_revoked_credential_is_found_invalid_in_its_status_list()
    {
        var presentation = Present(IssueAge(statusIndex: 5), [ClaimPath.Of("age_equal_or_over", "21")], KeyBinding);
        var credential = (await new SdJwtVcVerifier(Clock()).VerifyAsync(presentation, Trust, Policy, Expectation)).Value!;
        var list = new StatusList(1, 128);
        list[5] = (byte)TokenStatus.Invalid;
        var tokens = new StatusListTokens(Clock());
        var token = tokens.Create(new StatusListTokenRequest(ListUri, list) { Lifetime = TimeSpan.FromHours(1) }, IssuerSigning);

        var statusList = (await tokens.VerifyAsync(token, Trust.Keys, credential.Status!.Uri)).Value!;

        Assert.False(statusList.Lookup(credential.Status).Value!.IsValid);
    }

    [Theory]
    [InlineData("vct")]
    [InlineData("status")]
    [InlineData("cnf")]
    [InlineData("iss")]
    public void Issuing_refuses_to_make_a_clear_claim_disclosable(string claim)
    {
        var result = new SdJwtVcIssuer(Clock()).Issue(new SdJwtVcIssuance
        {
            Vct = Vct,
            Issuer = Issuer,
            Claims = [],
            Disclosable = [ClaimPath.Of(claim)],
            Lifetime = TimeSpan.FromDays(1),
        }, IssuerSigning);
        Assert.Equal(CredentialError.NotSelectivelyDisclosable, result.Error);
    }

    [Fact]
    public void Issuing_refuses_claims_that_would_override_what_the_issuer_sets()
    {
        var result = new SdJwtVcIssuer(Clock()).Issue(new SdJwtVcIssuance
        {
            Vct = Vct,
            Issuer = Issuer,
            Claims = new JsonObject { ["exp"] = 4_000_000_000 },
            Lifetime = TimeSpan.FromDays(1),
        }, IssuerSigning);
        Assert.Equal(CredentialError.ReservedClaimName, result.Error);
    }

    public static readonly Dictionary<string, (CredentialError Expected, Func<string> Presentation)> HostileCredentials = new()
    {
        ["no_vct"] = (CredentialError.VctMissing, () => SignRaw(Without(PersonClaims(), "vct")) + "~"),
        ["vct_not_a_string"] = (CredentialError.VctMissing, () => SignRaw(With(PersonClaims(), "vct", 7)) + "~"),
        ["another_vct"] = (CredentialError.VctNotAllowed, () => SignRaw(With(PersonClaims(), "vct", "https://tessera.example/vct/admin")) + "~"),
        ["untrusted_issuer"] = (CredentialError.IssuerMismatch, () => SignRaw(With(PersonClaims(), "iss", "https://evil.example")) + "~"),
        ["old_typ_vc_sd_jwt"] = (CredentialError.TypeNotAllowed, () => SignRaw(PersonClaims(), type: "vc+sd-jwt") + "~"),
        ["status_without_status_list"] = (CredentialError.StatusMalformed, () => SignRaw(With(PersonClaims(), "status", new JsonObject { ["idx"] = 1 })) + "~"),
        ["vct_smuggled_through_a_disclosure"] = (CredentialError.NotSelectivelyDisclosable, () =>
        {
            var disclosure = Disclosure.WithSalt("c2FsdA", "vct", JsonValue.Create(Vct));
            var payload = With(Without(PersonClaims(), "vct"), "_sd", new JsonArray(disclosure.Digest(DigestAlgorithm.Sha256)));
            return SignRaw(payload) + "~" + disclosure.Encoded + "~";
        }
        ),
    };

    public static TheoryData<string> HostileCredentialNames => new(HostileCredentials.Keys);

    [Theory]
    [MemberData(nameof(HostileCredentialNames))]
    public async Task Hostile_credential_is_refused_with_its_rule(string name)
    {
        var (expected, presentation) = HostileCredentials[name];
        var policy = Policy with { SdJwt = Policy.SdJwt with { RequireKeyBinding = false } };

        var result = await new SdJwtVcVerifier(Clock()).VerifyAsync(presentation(), Trust, policy, null);

        Assert.Equal(expected, result.Error);
    }

    [Theory]
    [InlineData("https://tessera.example", "https://tessera.example/.well-known/jwt-vc-issuer")]
    [InlineData("https://tessera.example/tenant/1", "https://tessera.example/.well-known/jwt-vc-issuer/tenant/1")]
    [InlineData("https://tessera.example:8443/", "https://tessera.example:8443/.well-known/jwt-vc-issuer")]
    public void Issuer_metadata_url_puts_the_well_known_path_before_the_issuers_path(string issuer, string expected) =>
        Assert.Equal(expected, JwtVcIssuerMetadata.WellKnownUri(issuer).AbsoluteUri);

    [Fact]
    public void Issuer_metadata_publishes_public_keys_only_and_reads_back()
    {
        var privateJwk = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromECDsaSecurityKey(IssuerKey);
        Assert.NotNull(privateJwk.D);

        var json = new JwtVcIssuerMetadata(Issuer, [privateJwk]).ToJson();

        Assert.Equal(Issuer, json["issuer"]!.GetValue<string>());
        var key = json["jwks"]!["keys"]![0]!.AsObject();
        Assert.False(key.ContainsKey("d"));
        Assert.Equal("issuer-1", key["kid"]!.GetValue<string>());
        var read = JwtVcIssuerMetadata.Read(json.ToJsonString(), Issuer);
        Assert.True(read.Succeeded, read.Failure?.ToString());
        Assert.Equal(privateJwk.X, read.Value!.Keys[0].X);
    }

    [Theory]
    [InlineData("another_issuer", """{"issuer":"https://evil.example","jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}}""", CredentialError.IssuerMismatch)]
    [InlineData("issuer_with_trailing_slash", """{"issuer":"https://tessera.example/","jwks":{"keys":[]}}""", CredentialError.IssuerMismatch)]
    [InlineData("only_a_jwks_uri", """{"issuer":"https://tessera.example","jwks_uri":"https://evil.example/jwks"}""", CredentialError.Malformed)]
    [InlineData("a_symmetric_key", """{"issuer":"https://tessera.example","jwks":{"keys":[{"kty":"oct","k":"AAAA"}]}}""", CredentialError.IssuerKeyInvalid)]
    [InlineData("a_private_key", """{"issuer":"https://tessera.example","jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}]}}""", CredentialError.IssuerKeyInvalid)]
    [InlineData("not_json", "<html>", CredentialError.Malformed)]
    public void Hostile_issuer_metadata_is_refused(string attack, string json, CredentialError expected) =>
        Assert.True(JwtVcIssuerMetadata.Read(json, Issuer).Error == expected, attack);

    private static JsonObject With(JsonObject claims, string name, JsonNode? value)
    {
        claims[name] = value;
        return claims;
    }

    private static JsonObject Without(JsonObject claims, string name)
    {
        claims.Remove(name);
        return claims;
    }
}
