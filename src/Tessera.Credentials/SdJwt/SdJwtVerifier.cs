using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials.SdJwt;

/// <summary>A verified SD-JWT: the claims it disclosed (and only those), where each disclosure went, and the holder key.</summary>
public sealed record VerifiedSdJwt(JsonObject Claims, IReadOnlyList<DisclosedClaim> Disclosed, DigestAlgorithm DigestAlgorithm)
{
    /// <summary>The holder key from <c>cnf</c>, when the credential names one.</summary>
    public JsonWebKey? HolderKey { get; init; }

    /// <summary>True when a key-binding JWT was presented and held.</summary>
    public bool KeyBound { get; init; }
}

/// <summary>
/// Verifies an SD-JWT or SD-JWT+KB presentation (RFC 9901 §7.1 and §7.3): the issuer's signature with the caller's
/// keys and algorithm allow-list, the <c>typ</c>, every disclosure (digest referenced exactly once, no reserved names,
/// no collisions, right shape), the validity period, and the key binding. The first rule broken is the answer.
/// </summary>
public sealed class SdJwtVerifier(TimeProvider time)
{
    /// <summary>
    /// Verifies <paramref name="presentation"/>. <paramref name="keyBinding"/> is what the holder was asked to bind to;
    /// when null, a presentation that carries a KB-JWT is refused, since its audience and nonce could not be checked.
    /// </summary>
    public async Task<CredentialResult<VerifiedSdJwt>> VerifyAsync(string presentation, SdJwtIssuerTrust trust, SdJwtVerificationPolicy policy, KeyBindingExpectation? keyBinding)
    {
        ArgumentNullException.ThrowIfNull(trust);
        ArgumentNullException.ThrowIfNull(policy);

        var parsed = CompactSdJwt.Parse(presentation, policy.MaxLength);
        if (!parsed.Succeeded)
        {
            return parsed.Failure!;
        }

        var compact = parsed.Value!;
        if (CompactJws.Read(compact.IssuerSignedJwt) is not { } token)
        {
            return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.Malformed, "The issuer-signed JWT is not a readable JWS.");
        }

        if (!CompactJws.AlgorithmAllowed(token, policy.AllowedAlgorithms))
        {
            return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.AlgorithmNotAllowed, "The issuer-signed JWT's alg is not allowed.");
        }

        if (!policy.AllowedTypes.Contains(token.Typ, StringComparer.Ordinal))
        {
            return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.TypeNotAllowed, "The issuer-signed JWT's typ is not one this verifier accepts.");
        }

        if (!await CompactJws.SignatureValidAsync(compact.IssuerSignedJwt, trust.Keys, policy.AllowedAlgorithms, token.Typ).ConfigureAwait(false))
        {
            return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.SignatureInvalid, "The issuer-signed JWT's signature does not verify with the issuer's keys.");
        }

        if (CompactJws.Payload(token) is not { } payload)
        {
            return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.PayloadMalformed, "The issuer-signed JWT's payload is not a JSON object.");
        }

        var digestAlgorithm = ReadDigestAlgorithm(payload, policy);
        if (digestAlgorithm is null)
        {
            return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.DigestAlgorithmUnsupported, "The _sd_alg is not one this verifier accepts.");
        }

        if (compact.Disclosures.Count > policy.MaxDisclosures)
        {
            return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.TooLarge, "The SD-JWT carries more disclosures than this verifier accepts.");
        }

        var disclosures = new List<Disclosure>(compact.Disclosures.Count);
        foreach (var encoded in compact.Disclosures)
        {
            var disclosure = Disclosure.Parse(encoded);
            if (!disclosure.Succeeded)
            {
                return disclosure.Failure!;
            }

            disclosures.Add(disclosure.Value!);
        }

        var processed = DisclosureProcessor.Process(payload, disclosures, digestAlgorithm);
        if (!processed.Succeeded)
        {
            return processed.Failure!;
        }

        var claims = processed.Value!.Claims;
        var now = time.GetUtcNow();
        if (CheckIssuerAndTimes(claims, trust, policy, now) is { } failure)
        {
            return failure;
        }

        if (compact.KeyBindingJwt is null)
        {
            if (policy.RequireKeyBinding)
            {
                return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.KeyBindingMissing, "The presentation has no key-binding JWT, and this verifier requires one.");
            }
        }
        else
        {
            if (keyBinding is null)
            {
                return CredentialResult<VerifiedSdJwt>.Fail(CredentialError.KeyBindingUnexpected, "The presentation carries a key-binding JWT, but no audience and nonce were given to check it against.");
            }

            if (await KeyBindingValidator.ValidateAsync(compact, claims, digestAlgorithm, keyBinding, policy, now).ConfigureAwait(false) is { } keyBindingFailure)
            {
                return keyBindingFailure;
            }
        }

        return CredentialResult<VerifiedSdJwt>.Success(new VerifiedSdJwt(claims, processed.Value.Disclosed, digestAlgorithm)
        {
            HolderKey = KeyBindingValidator.HolderKey(claims),
            KeyBound = compact.KeyBindingJwt is not null,
        });
    }

    /// <summary>§4.1.1: absent means sha-256; anything else must be allowed and computable here.</summary>
    private static DigestAlgorithm? ReadDigestAlgorithm(JsonObject payload, SdJwtVerificationPolicy policy)
    {
        string? name = "sha-256";
        if (payload.ContainsKey(SdJwtNames.DigestAlgorithm))
        {
            name = CompactJws.ReadString(payload, SdJwtNames.DigestAlgorithm);
        }

        return name is not null && policy.AllowedDigestAlgorithms.Contains(name, StringComparer.Ordinal) ? DigestAlgorithm.FromName(name) : null;
    }

    /// <summary>§7.1 step 5: the processed claims decide validity (exp, nbf, iat), with the policy's clock skew.</summary>
    private static CredentialFailure? CheckIssuerAndTimes(JsonObject claims, SdJwtIssuerTrust trust, SdJwtVerificationPolicy policy, DateTimeOffset now)
    {
        if (trust.Issuer is not null && CompactJws.ReadString(claims, "iss") != trust.Issuer)
        {
            return new CredentialFailure(CredentialError.IssuerMismatch, "The credential's iss is not the trusted issuer.");
        }

        if (!CompactJws.TryReadNumericDate(claims, "exp", out var exp) || !CompactJws.TryReadNumericDate(claims, "nbf", out var nbf)
            || !CompactJws.TryReadNumericDate(claims, "iat", out var iat))
        {
            return new CredentialFailure(CredentialError.PayloadMalformed, "exp, nbf or iat is not a NumericDate.");
        }

        var seconds = now.ToUnixTimeSeconds();
        var skew = (long)policy.ClockSkew.TotalSeconds;
        if (exp is not null && seconds - skew >= exp)
        {
            return new CredentialFailure(CredentialError.Expired, "The credential has expired.");
        }

        if ((nbf is not null && seconds + skew < nbf) || (iat is not null && seconds + skew < iat))
        {
            return new CredentialFailure(CredentialError.NotYetValid, "The credential is not valid yet.");
        }

        return null;
    }
}
