using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;

namespace Tessera.Credentials;

/// <summary>A checked proof: the holder key it proves possession of, and the <c>c_nonce</c> it names (not yet spent).</summary>
public sealed record HolderProof(JsonWebKey HolderKey, string Nonce);

/// <summary>
/// Checks a JWT proof of possession (OpenID4VCI 1.0 Appendix F.1): <c>typ</c> <c>openid4vci-proof+jwt</c>, an
/// asymmetric <c>alg</c>, the holder's public key in the <c>jwk</c> header (the key being proven, so the one place an
/// embedded key is read: it is what goes into <c>cnf</c>, not a key anything is trusted by), a signature by it, <c>aud</c>
/// the credential issuer, a fresh <c>iat</c>, a <c>nonce</c>, and <c>iss</c> the client when there is one.
/// </summary>
public static class ProofOfPossession
{
    public const string Type = "openid4vci-proof+jwt";
    public static readonly IReadOnlyList<string> Algorithms = ["ES256", "ES384", "ES512", "RS256", "PS256"];
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public static async Task<(HolderProof? Proof, string? Error)> CheckAsync(string jwt, string credentialIssuer, string? clientId, DateTimeOffset now)
    {
        if (jwt.Length is 0 or > 16 * 1024 || !Handler.CanReadToken(jwt))
        {
            return (null, "the proof is not a JWT");
        }

        JsonWebToken token;
        try
        {
            token = Handler.ReadJsonWebToken(jwt);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException or JsonException)
        {
            return (null, "the proof is not a JWT");
        }

        if (token.Typ != Type)
        {
            return (null, $"the proof's typ must be {Type}");
        }

        if (!Algorithms.Contains(token.Alg))
        {
            return (null, "the proof's alg is not an accepted asymmetric algorithm");
        }

        JsonObject? header;
        try
        {
            header = JsonNode.Parse(Base64UrlEncoder.Decode(token.EncodedHeader)) as JsonObject;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            header = null;
        }

        if (header is null || header.ContainsKey("kid") || header.ContainsKey("x5c"))
        {
            return (null, "the holder key must be given as jwk alone (kid and x5c are not supported)");
        }

        var holderKey = PublicJwk.Read(header["jwk"]);
        if (holderKey is null)
        {
            return (null, "the proof's jwk header must be a public EC or RSA key");
        }

        var result = await Handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKey = holderKey,
            ValidAlgorithms = [token.Alg],
            ValidTypes = [Type],
            ValidAudience = credentialIssuer,
            IgnoreTrailingSlashWhenValidatingAudience = false, // OpenID4VCI §12.2.1: the identifier is compared exactly
            ValidateIssuer = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
        });
        if (!result.IsValid)
        {
            return (null, result.Exception is SecurityTokenInvalidAudienceException
                ? $"the proof's aud must be the credential issuer {credentialIssuer}"
                : "the proof's signature does not verify with its jwk");
        }

        if (!token.TryGetPayloadValue<long>("iat", out var iat))
        {
            return (null, "the proof has no iat");
        }

        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(iat, 0, 253402300799));
        if (issuedAt > now + ClockSkew || issuedAt < now - MaxAge)
        {
            return (null, "the proof's iat is not recent");
        }

        if (clientId is not null && token.TryGetPayloadValue<string>("iss", out var iss) && iss != clientId)
        {
            return (null, "the proof's iss is not the client the access token was issued to");
        }

        if (!token.TryGetPayloadValue<string>("nonce", out var nonce) || string.IsNullOrEmpty(nonce))
        {
            return (null, "the proof carries no nonce");
        }

        return (new HolderProof(holderKey, nonce), null);
    }
}
