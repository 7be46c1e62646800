using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.SdJwt;
using static Tessera.Credentials.Tests.Infrastructure.TestCredentials;

namespace Tessera.Credentials.Tests;

/// <summary>
/// Hostile SD-JWT presentations, one row per attack, each expecting the rule that must stop it. Most rows start from a
/// credential the issuer really signed and do what a holder or a man in the middle can do with it; the rest are
/// payloads an issuer key signed but no honest issuer writes.
/// </summary>
public sealed class HostilePresentationTests
{
    public sealed record HostileCase(CredentialError Expected, Func<string> Presentation)
    {
        public SdJwtVerificationPolicy Policy { get; init; } = new();

        public bool NoExpectation { get; init; }
    }

    private static readonly ClaimPath[] EmailAndAge = [ClaimPath.Of("email"), ClaimPath.Of("age_equal_or_over", "21")];

    private static readonly SdJwtVerificationPolicy NoKeyBinding = new() { RequireKeyBinding = false };

    public static readonly Dictionary<string, HostileCase> Cases = new()
    {
        // The serialization.
        ["plain_jwt_without_tilde"] = new(CredentialError.Malformed, () => IssuePerson().IssuerSignedJwt),
        ["empty_disclosure_between_tildes"] = new(CredentialError.Malformed, () => IssuePerson().IssuerSignedJwt + "~~"),
        ["oversized_presentation"] = new(CredentialError.TooLarge, () => IssuePerson().IssuerSignedJwt + "~" + new string('A', 300_000) + "~"),
        ["disclosure_not_base64url"] = new(CredentialError.DisclosureMalformed, () => IssuePerson().IssuerSignedJwt + "~%%%~") { Policy = NoKeyBinding },
        ["disclosure_is_an_object_not_an_array"] = new(CredentialError.DisclosureMalformed, () => IssuePerson().IssuerSignedJwt + "~" + B64("{\"salt\":\"s\"}") + "~") { Policy = NoKeyBinding },
        ["disclosure_with_four_elements"] = new(CredentialError.DisclosureMalformed, () => IssuePerson().IssuerSignedJwt + "~" + B64("[\"s\",\"a\",\"b\",\"c\"]") + "~") { Policy = NoKeyBinding },

        // The issuer-signed JWT.
        ["alg_none"] = new(CredentialError.AlgorithmNotAllowed, () => Unsigned(DecodePayload(IssuePerson().IssuerSignedJwt)) + "~") { Policy = NoKeyBinding },
        ["hmac_keyed_with_anything"] = new(CredentialError.AlgorithmNotAllowed, () =>
            SignRaw(PersonClaims(), credentials: new SigningCredentials(new SymmetricSecurityKey(new byte[32]), SecurityAlgorithms.HmacSha256)) + "~")
        { Policy = NoKeyBinding },
        ["typ_jwt_instead_of_dc_sd_jwt"] = new(CredentialError.TypeNotAllowed, () => SignRaw(PersonClaims(), type: "JWT") + "~") { Policy = NoKeyBinding },
        ["typ_of_a_key_binding_jwt"] = new(CredentialError.TypeNotAllowed, () => SignRaw(PersonClaims(), type: "kb+jwt") + "~") { Policy = NoKeyBinding },
        ["signed_by_an_untrusted_key"] = new(CredentialError.SignatureInvalid, () => SignRaw(PersonClaims(), credentials: StrangerSigning) + "~") { Policy = NoKeyBinding },
        ["payload_changed_after_signing"] = new(CredentialError.SignatureInvalid, () =>
        {
            var parts = IssuePerson().IssuerSignedJwt.Split('.');
            var payload = DecodePayload(IssuePerson().IssuerSignedJwt);
            payload["vct"] = "https://evil.example/vct/admin";
            return parts[0] + "." + B64(payload.ToJsonString()) + "." + parts[2] + "~";
        })
        { Policy = NoKeyBinding },
        ["expired_credential"] = new(CredentialError.Expired, () => SignRaw(With(PersonClaims(), "exp", Now.AddMinutes(-5).ToUnixTimeSeconds())) + "~") { Policy = NoKeyBinding },
        ["credential_not_yet_valid"] = new(CredentialError.NotYetValid, () => SignRaw(With(PersonClaims(), "nbf", Now.AddHours(1).ToUnixTimeSeconds())) + "~") { Policy = NoKeyBinding },
        ["another_issuers_iss"] = new(CredentialError.IssuerMismatch, () => SignRaw(With(PersonClaims(), "iss", "https://evil.example")) + "~") { Policy = NoKeyBinding },
        ["sd_alg_md5"] = new(CredentialError.DigestAlgorithmUnsupported, () => SignRaw(With(PersonClaims(), "_sd_alg", "md5")) + "~") { Policy = NoKeyBinding },
        ["sd_alg_not_a_string"] = new(CredentialError.DigestAlgorithmUnsupported, () => SignRaw(With(PersonClaims(), "_sd_alg", 256)) + "~") { Policy = NoKeyBinding },
        ["payload_with_a_duplicate_member"] = new(CredentialError.PayloadMalformed, () =>
            new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(
                "{\"iss\":\"https://tessera.example\",\"vct\":\"a\",\"vct\":\"b\"}", IssuerSigning,
                new Dictionary<string, object> { ["typ"] = "dc+sd-jwt" }) + "~")
        { Policy = NoKeyBinding },
        ["sd_not_an_array"] = new(CredentialError.PayloadMalformed, () => SignRaw(With(PersonClaims(), "_sd", "digest")) + "~") { Policy = NoKeyBinding },
        ["sd_holding_a_number"] = new(CredentialError.PayloadMalformed, () => SignRaw(With(PersonClaims(), "_sd", new JsonArray(1))) + "~") { Policy = NoKeyBinding },

        // Disclosures (RFC 9901 §7.1).
        ["tampered_disclosure_value"] = new(CredentialError.DisclosureUnreferenced, () =>
        {
            var issued = IssuePerson();
            var email = issued.Disclosures.Single(d => d.ClaimName == "email");
            var forged = Disclosure.WithSalt(email.Salt, "email", JsonValue.Create("admin@tessera.example"));
            return Present(issued, EmailAndAge, KeyBinding).Replace(email.Encoded, forged.Encoded, StringComparison.Ordinal);
        }),
        ["duplicated_disclosure"] = new(CredentialError.DisclosureDuplicated, () =>
        {
            var issued = IssuePerson();
            var email = issued.Disclosures.Single(d => d.ClaimName == "email");
            return issued.IssuerSignedJwt + "~" + email.Encoded + "~" + email.Encoded + "~";
        })
        { Policy = NoKeyBinding },
        ["disclosure_from_another_credential"] = new(CredentialError.DisclosureUnreferenced, () =>
        {
            var other = IssuePerson().Disclosures.Single(d => d.ClaimName == "email");
            return IssuePerson().IssuerSignedJwt + "~" + other.Encoded + "~";
        })
        { Policy = NoKeyBinding },
        ["disclosure_named_sd_smuggling_digests"] = new(CredentialError.DisclosureReservedName, () =>
            Referenced(Disclosure.WithSalt("c2FsdA", "_sd", new JsonArray("w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs")))),
        ["disclosure_named_ellipsis"] = new(CredentialError.DisclosureReservedName, () => Referenced(Disclosure.WithSalt("c2FsdA", "...", JsonValue.Create("x")))),
        ["disclosure_overwrites_a_clear_claim"] = new(CredentialError.DisclosureClaimCollision, () => Referenced(Disclosure.WithSalt("c2FsdA", "iss", JsonValue.Create("https://evil.example")))),
        ["two_disclosures_of_the_same_name"] = new(CredentialError.DisclosureClaimCollision, () =>
        {
            var first = Disclosure.WithSalt("c2FsdDE", "role", JsonValue.Create("nurse"));
            var second = Disclosure.WithSalt("c2FsdDI", "role", JsonValue.Create("admin"));
            var payload = With(PersonClaims(), "_sd", new JsonArray(first.Digest(DigestAlgorithm.Sha256), second.Digest(DigestAlgorithm.Sha256)));
            return SignRaw(payload) + "~" + first.Encoded + "~" + second.Encoded + "~";
        })
        { Policy = NoKeyBinding },
        ["array_element_disclosure_referenced_from_sd"] = new(CredentialError.DisclosureShapeMismatch, () => Referenced(Disclosure.WithSalt("c2FsdA", null, JsonValue.Create("x")))),
        ["property_disclosure_referenced_from_an_array"] = new(CredentialError.DisclosureShapeMismatch, () =>
        {
            var disclosure = Disclosure.WithSalt("c2FsdA", "nationality", JsonValue.Create("FR"));
            var payload = With(PersonClaims(), "nationalities", new JsonArray(new JsonObject { ["..."] = disclosure.Digest(DigestAlgorithm.Sha256) }));
            return SignRaw(payload) + "~" + disclosure.Encoded + "~";
        })
        { Policy = NoKeyBinding },
        ["digest_referenced_twice"] = new(CredentialError.DigestReferencedTwice, () =>
        {
            var disclosure = Disclosure.WithSalt("c2FsdA", "role", JsonValue.Create("nurse"));
            var digest = disclosure.Digest(DigestAlgorithm.Sha256);
            var payload = With(PersonClaims(), "_sd", new JsonArray(digest));
            payload["address"]!.AsObject()["_sd"] = new JsonArray(digest);
            return SignRaw(payload) + "~" + disclosure.Encoded + "~";
        })
        { Policy = NoKeyBinding },
        ["nested_disclosure_under_a_parent_nobody_references"] = new(CredentialError.DisclosureUnreferenced, () =>
        {
            var inner = Disclosure.WithSalt("c2FsdA", "role", JsonValue.Create("nurse"));
            var outer = Disclosure.WithSalt("c2FsdB", "job", new JsonObject { ["_sd"] = new JsonArray(inner.Digest(DigestAlgorithm.Sha256)) });
            return SignRaw(PersonClaims()) + "~" + outer.Encoded + "~" + inner.Encoded + "~";
        })
        { Policy = NoKeyBinding },

        // Key binding (RFC 9901 §7.3).
        ["key_binding_missing"] = new(CredentialError.KeyBindingMissing, () => Present(IssuePerson(), EmailAndAge)),
        ["key_binding_for_another_nonce"] = new(CredentialError.KeyBindingNonceMismatch, () => Present(IssuePerson(), EmailAndAge, KeyBinding with { Nonce = "replayed-nonce" })),
        ["key_binding_for_another_audience"] = new(CredentialError.KeyBindingAudienceMismatch, () => Present(IssuePerson(), EmailAndAge, KeyBinding with { Audience = "https://other-verifier.example" })),
        ["key_binding_signed_by_another_key"] = new(CredentialError.KeyBindingSignatureInvalid, () => Present(IssuePerson(), EmailAndAge, KeyBinding with { HolderKey = StrangerSigning })),
        ["key_binding_issued_ten_minutes_ago"] = new(CredentialError.KeyBindingStale, () => Present(IssuePerson(), EmailAndAge, KeyBinding, new FakeTimeProvider(Now.AddMinutes(-10)))),
        ["key_binding_issued_in_the_future"] = new(CredentialError.KeyBindingStale, () => Present(IssuePerson(), EmailAndAge, KeyBinding, new FakeTimeProvider(Now.AddMinutes(10)))),
        ["key_binding_after_a_disclosure_was_dropped"] = new(CredentialError.KeyBindingSdHashMismatch, () =>
        {
            var issued = IssuePerson();
            var email = issued.Disclosures.Single(d => d.ClaimName == "email");
            return Present(issued, EmailAndAge, KeyBinding).Replace(email.Encoded + "~", "", StringComparison.Ordinal);
        }),
        ["key_binding_over_another_credential"] = new(CredentialError.KeyBindingSdHashMismatch, () =>
        {
            var honest = Present(IssuePerson(), EmailAndAge, KeyBinding);
            var other = Present(IssuePerson(), [], KeyBinding);
            return other[..(other.LastIndexOf('~') + 1)] + honest[(honest.LastIndexOf('~') + 1)..];
        }),
        ["key_binding_typed_jwt"] = new(CredentialError.KeyBindingTypeInvalid, () => WithKeyBindingJwt(IssuePerson(), kb => CompactJws.Sign(kb, HolderSigning, "JWT"))),
        ["key_binding_alg_none"] = new(CredentialError.KeyBindingAlgorithmNotAllowed, () => WithKeyBindingJwt(IssuePerson(), kb => Unsigned(kb, "kb+jwt"))),
        ["key_binding_without_sd_hash"] = new(CredentialError.KeyBindingMalformed, () => WithKeyBindingJwt(IssuePerson(), kb =>
        {
            kb.Remove("sd_hash");
            return CompactJws.Sign(kb, HolderSigning, "kb+jwt");
        })),
        ["key_binding_for_a_credential_without_cnf"] = new(CredentialError.HolderKeyMissing, () => Present(IssuePerson(holderBound: false), EmailAndAge, KeyBinding)),
        ["cnf_holding_a_symmetric_key"] = new(CredentialError.HolderKeyInvalid, () =>
        {
            var payload = With(PersonClaims(), "cnf", new JsonObject { ["jwk"] = new JsonObject { ["kty"] = "oct", ["k"] = "AAAA" } });
            return SignRaw(payload) + "~" + "eyJhbGciOiJIUzI1NiIsInR5cCI6ImtiK2p3dCJ9.e30.AAAA";
        }),
        ["key_binding_presented_where_none_was_asked_for"] = new(CredentialError.KeyBindingUnexpected, () => Present(IssuePerson(), EmailAndAge, KeyBinding)) { NoExpectation = true },
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Hostile_presentation_is_refused_with_its_rule(string name)
    {
        var hostile = Cases[name];
        var result = await Verify(hostile.Presentation(), hostile.Policy, noExpectation: hostile.NoExpectation);

        Assert.False(result.Succeeded, $"{name} was accepted");
        Assert.Equal(hostile.Expected, result.Error);
        Assert.Null(result.Value);
    }

    [Fact]
    public async Task Every_row_starts_from_something_that_verifies()
    {
        var honest = Present(IssuePerson(), EmailAndAge, KeyBinding);
        Assert.True((await Verify(honest)).Succeeded);
    }

    private static JsonObject With(JsonObject claims, string name, JsonNode? value)
    {
        claims[name] = value;
        return claims;
    }

    /// <summary>An issuer-signed payload whose top-level <c>_sd</c> references <paramref name="disclosure"/>, presented with it.</summary>
    private static string Referenced(Disclosure disclosure)
    {
        var payload = With(PersonClaims(), "_sd", new JsonArray(disclosure.Digest(DigestAlgorithm.Sha256)));
        return SignRaw(payload) + "~" + disclosure.Encoded + "~";
    }

    /// <summary>An honest presentation whose KB-JWT is replaced by one made from its honest payload.</summary>
    private static string WithKeyBindingJwt(IssuedSdJwt issued, Func<JsonObject, string> sign)
    {
        var honest = Present(issued, EmailAndAge, KeyBinding);
        var cut = honest.LastIndexOf('~') + 1;
        return honest[..cut] + sign(DecodePayload(honest[cut..]));
    }
}
