using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials.SdJwt;

/// <summary>
/// Checks a key-binding JWT (RFC 9901 §7.3 step 5): signed by the key in the credential's <c>cnf</c>, typed
/// <c>kb+jwt</c>, for this verifier's audience and nonce, recent, and bound by <c>sd_hash</c> to exactly the issuer-signed
/// JWT and the disclosures it travels with.
/// </summary>
internal static class KeyBindingValidator
{
    public static async Task<CredentialFailure?> ValidateAsync(CompactSdJwt presentation, JsonObject claims, DigestAlgorithm digestAlgorithm,
        KeyBindingExpectation expected, SdJwtVerificationPolicy policy, DateTimeOffset now)
    {
        if (HolderKey(claims) is not { } holderKey)
        {
            return claims.ContainsKey(SdJwtNames.Confirmation)
                ? new CredentialFailure(CredentialError.HolderKeyInvalid, "The credential's cnf does not hold a public EC or RSA JWK.")
                : new CredentialFailure(CredentialError.HolderKeyMissing, "The credential names no holder key (cnf), so nothing can be bound to it.");
        }

        var compact = presentation.KeyBindingJwt!;
        if (CompactJws.Read(compact) is not { } token || CompactJws.Payload(token) is not { } payload)
        {
            return new CredentialFailure(CredentialError.KeyBindingMalformed, "The key-binding JWT is not a readable JWS.");
        }

        // §4.3: explicit typing keeps a KB-JWT from being mistaken for, or replaced by, any other JWT the holder signed.
        if (token.Typ != SdJwtNames.KeyBindingType)
        {
            return new CredentialFailure(CredentialError.KeyBindingTypeInvalid, "The key-binding JWT's typ is not kb+jwt.");
        }

        if (!CompactJws.AlgorithmAllowed(token, policy.AllowedKeyBindingAlgorithms))
        {
            return new CredentialFailure(CredentialError.KeyBindingAlgorithmNotAllowed, "The key-binding JWT's alg is not allowed.");
        }

        if (!await CompactJws.SignatureValidAsync(compact, [holderKey], policy.AllowedKeyBindingAlgorithms, SdJwtNames.KeyBindingType).ConfigureAwait(false))
        {
            return new CredentialFailure(CredentialError.KeyBindingSignatureInvalid, "The key-binding JWT is not signed by the holder key in cnf.");
        }

        var audience = CompactJws.ReadString(payload, "aud");
        var nonce = CompactJws.ReadString(payload, "nonce");
        var sdHash = CompactJws.ReadString(payload, SdJwtNames.SdHash);
        if (!CompactJws.TryReadNumericDate(payload, "iat", out var issuedAt) || issuedAt is null || audience is null || nonce is null || sdHash is null)
        {
            return new CredentialFailure(CredentialError.KeyBindingMalformed, "The key-binding JWT lacks iat, aud, nonce or sd_hash.");
        }

        if (!FixedTimeEquals(nonce, expected.Nonce))
        {
            return new CredentialFailure(CredentialError.KeyBindingNonceMismatch, "The key-binding JWT answers another nonce.");
        }

        if (audience != expected.Audience)
        {
            return new CredentialFailure(CredentialError.KeyBindingAudienceMismatch, "The key-binding JWT is meant for another audience.");
        }

        var issued = CompactJws.ToTime(issuedAt.Value);
        if (issued > now + policy.ClockSkew || issued < now - policy.KeyBindingMaxAge - policy.ClockSkew)
        {
            return new CredentialFailure(CredentialError.KeyBindingStale, "The key-binding JWT's iat is outside the accepted window.");
        }

        // §4.3.1: the hash covers the issuer-signed JWT and the disclosures exactly as presented, so none can be added or dropped.
        if (!FixedTimeEquals(sdHash, digestAlgorithm.Digest(presentation.WithoutKeyBinding)))
        {
            return new CredentialFailure(CredentialError.KeyBindingSdHashMismatch, "The key-binding JWT's sd_hash does not match the presented SD-JWT.");
        }

        return null;
    }

    /// <summary>The holder's key from <c>cnf.jwk</c> (RFC 7800 §3.2); other confirmation methods are not supported.</summary>
    public static JsonWebKey? HolderKey(JsonObject claims) =>
        claims.TryGetPropertyValue(SdJwtNames.Confirmation, out var cnf) && cnf is JsonObject confirmation
            ? PublicJwk.Read(confirmation["jwk"])
            : null;

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
