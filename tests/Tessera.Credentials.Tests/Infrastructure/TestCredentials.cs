using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.SdJwt;

namespace Tessera.Credentials.Tests.Infrastructure;

/// <summary>An issuer, a holder and a stranger, each with its own P-256 key, and a clock they share.</summary>
public static class TestCredentials
{
    public const string Issuer = "https://tessera.example";
    public const string Vct = "https://tessera.example/vct/age";
    public const string Verifier = "https://verifier.example";
    public const string Nonce = "n-0S6_WzA2Mj";

    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);

    public static readonly ECDsaSecurityKey IssuerKey = NewKey("issuer-1");
    public static readonly ECDsaSecurityKey HolderKey = NewKey("holder-1");
    public static readonly ECDsaSecurityKey StrangerKey = NewKey("stranger-1");

    public static SigningCredentials IssuerSigning => new(IssuerKey, SecurityAlgorithms.EcdsaSha256);

    public static SigningCredentials HolderSigning => new(HolderKey, SecurityAlgorithms.EcdsaSha256);

    public static SigningCredentials StrangerSigning => new(StrangerKey, SecurityAlgorithms.EcdsaSha256);

    public static JsonWebKey HolderPublicJwk => PublicOnly(HolderKey);

    public static SdJwtIssuerTrust Trust => new([PublicOnly(IssuerKey)]) { Issuer = Issuer };

    public static KeyBindingExpectation Expectation => new(Verifier, Nonce);

    public static KeyBindingRequest KeyBinding => new(Verifier, Nonce, HolderSigning);

    public static FakeTimeProvider Clock() => new(Now);

    /// <summary>A person with an address, nationalities and the age booleans, in the clear.</summary>
    public static JsonObject PersonClaims() => new()
    {
        ["iss"] = Issuer,
        ["vct"] = Vct,
        ["iat"] = Now.ToUnixTimeSeconds(),
        ["exp"] = Now.AddDays(30).ToUnixTimeSeconds(),
        ["given_name"] = "Erika",
        ["family_name"] = "Möbius",
        ["email"] = "erika@stmarys.example",
        ["nationalities"] = new JsonArray("DE", "FR"),
        ["address"] = new JsonObject { ["street_address"] = "Schulstr. 12", ["locality"] = "Berlin", ["country"] = "DE" },
        ["age_equal_or_over"] = new JsonObject { ["18"] = true, ["21"] = true },
    };

    public static readonly ClaimPath[] PersonDisclosable =
    [
        ClaimPath.Of("given_name"),
        ClaimPath.Of("family_name"),
        ClaimPath.Of("email"),
        ClaimPath.Of("nationalities", null),
        ClaimPath.Of("address"),
        ClaimPath.Of("address", "street_address"),
        ClaimPath.Of("age_equal_or_over"),
        ClaimPath.Of("age_equal_or_over", "18"),
        ClaimPath.Of("age_equal_or_over", "21"),
    ];

    public static IssuedSdJwt IssuePerson(bool holderBound = true)
    {
        var result = new SdJwtIssuer().Issue(new SdJwtIssuance
        {
            Claims = PersonClaims(),
            Disclosable = PersonDisclosable,
            HolderKey = holderBound ? HolderPublicJwk : null,
            Type = "dc+sd-jwt",
        }, IssuerSigning);
        Assert.True(result.Succeeded, result.Failure?.ToString());
        return result.Value!;
    }

    /// <summary>Presents the person credential with the claims at <paramref name="paths"/>, key-bound unless told otherwise.</summary>
    public static string Present(IssuedSdJwt issued, IEnumerable<ClaimPath> paths, KeyBindingRequest? keyBinding = null, TimeProvider? holderClock = null)
    {
        var held = SdJwtHolder.Read(issued.Serialized);
        Assert.True(held.Succeeded, held.Failure?.ToString());
        var disclosures = held.Value!.DisclosuresFor(paths);
        Assert.True(disclosures.Succeeded, disclosures.Failure?.ToString());
        return new SdJwtHolder(holderClock ?? Clock()).Present(held.Value, disclosures.Value!, keyBinding);
    }

    public static Task<CredentialResult<VerifiedSdJwt>> Verify(string presentation, SdJwtVerificationPolicy? policy = null, KeyBindingExpectation? expectation = null, bool noExpectation = false) =>
        new SdJwtVerifier(Clock()).VerifyAsync(presentation, Trust, policy ?? new SdJwtVerificationPolicy(), noExpectation ? null : expectation ?? Expectation);

    /// <summary>Signs any payload as the issuer would (or with another key), for inputs no honest issuer produces.</summary>
    public static string SignRaw(JsonObject payload, string type = "dc+sd-jwt", SigningCredentials? credentials = null) =>
        CompactJws.Sign(payload, credentials ?? IssuerSigning, type);

    /// <summary>An unsigned JWS with <c>alg: none</c>.</summary>
    public static string Unsigned(JsonObject payload, string type = "dc+sd-jwt") =>
        B64(new JsonObject { ["alg"] = "none", ["typ"] = type }.ToJsonString()) + "." + B64(payload.ToJsonString()) + ".";

    public static string B64(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    public static JsonObject DecodePayload(string jwt) =>
        JsonNode.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[1]))!.AsObject();

    private static ECDsaSecurityKey NewKey(string kid) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid };

    private static JsonWebKey PublicOnly(ECDsaSecurityKey key)
    {
        var parameters = key.ECDsa.ExportParameters(includePrivateParameters: false);
        return new JsonWebKey
        {
            Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve,
            Crv = JsonWebKeyECTypes.P256,
            X = Base64Url.EncodeToString(parameters.Q.X!),
            Y = Base64Url.EncodeToString(parameters.Q.Y!),
            Kid = key.KeyId,
        };
    }
}
