using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation;

/// <summary>
/// Verifies a JWT Tessera signed (DESIGN invariant 1): an allowed asymmetric algorithm (never <c>none</c> or HMAC),
/// the expected <c>typ</c>, a key from Tessera's own key set chosen by <c>kid</c> (never from the token), then
/// issuer, audience and, for kinds that have one, the lifetime with the configured skew.
/// </summary>
internal sealed class TesseraJwtVerifier(SigningKeySource keys, IOptions<TesseraValidationOptions> options, TimeProvider time)
{
    public const int MaxTokenLength = 16 * 1024;

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    private readonly TesseraValidationOptions _options = options.Value;

    public async ValueTask<JwtVerification> VerifyAsync(string token, JwtProfile profile, CancellationToken cancellationToken)
    {
        if (token.Length > MaxTokenLength)
        {
            return JwtVerification.Fail(TokenFailures.Malformed, $"The {profile.Name} is larger than allowed.");
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return JwtVerification.Fail(TokenFailures.Malformed, $"The {profile.Name} is not a well-formed JWS.");
        }

        // RFC 7518 §3.6: an unsecured JWS proves nothing.
        if (string.IsNullOrEmpty(jwt.Alg) || string.Equals(jwt.Alg, "none", StringComparison.OrdinalIgnoreCase) || string.IsNullOrEmpty(jwt.EncodedSignature))
        {
            return JwtVerification.Fail(TokenFailures.Unsigned, $"The {profile.Name} is not signed.");
        }

        if (!_options.EffectiveAlgorithms.Contains(jwt.Alg, StringComparer.Ordinal))
        {
            return JwtVerification.Fail(TokenFailures.Algorithm, $"The {profile.Name}'s algorithm is not accepted.");
        }

        // RFC 7515 §4.1.11: no extension is understood here, so any critical one makes the token unacceptable.
        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            return JwtVerification.Fail(TokenFailures.Malformed, $"The {profile.Name} has a critical header extension that is not understood.");
        }

        // RFC 7515 §4.1.9: typ is a media type, compared without case, "application/" optional.
        if (!profile.Types.Contains(jwt.Typ, StringComparer.OrdinalIgnoreCase))
        {
            return JwtVerification.Fail(TokenFailures.Type, $"The {profile.Name}'s typ header must be '{profile.Types[0]}'.");
        }

        var configuration = await keys.GetAsync(jwt.Kid, cancellationToken);
        if (configuration is null)
        {
            return JwtVerification.Fail(TokenFailures.KeysUnavailable, "Tessera's signing keys are not available.");
        }

        var result = await Handler.ValidateTokenAsync(jwt, profile.Parameters(configuration, _options));
        if (result.IsValid)
        {
            return profile.HasLifetime ? CheckLifetime(jwt, profile, result) : new JwtVerification(jwt, result, null, null);
        }

        return result.Exception switch
        {
            SecurityTokenInvalidIssuerException => JwtVerification.Fail(TokenFailures.Issuer, $"The {profile.Name} was not issued by the expected issuer."),
            SecurityTokenInvalidAudienceException => JwtVerification.Fail(TokenFailures.Audience, $"The {profile.Name} is not meant for this audience."),
            SecurityTokenSignatureKeyNotFoundException => JwtVerification.Fail(TokenFailures.UnknownKey, $"The {profile.Name} is signed with a key Tessera does not publish."),
            SecurityTokenInvalidAlgorithmException => JwtVerification.Fail(TokenFailures.Algorithm, $"The {profile.Name}'s algorithm is not accepted."),
            _ => JwtVerification.Fail(TokenFailures.Signature, $"The {profile.Name}'s signature does not verify."),
        };
    }

    /// <summary>RFC 7519 §4.1.4 and §4.1.5, with the configured skew either way.</summary>
    private JwtVerification CheckLifetime(JsonWebToken jwt, JwtProfile profile, TokenValidationResult result)
    {
        if (!jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out _))
        {
            return JwtVerification.Fail(TokenFailures.Expired, $"The {profile.Name} has no expiry.");
        }

        var now = time.GetUtcNow();
        if (now >= jwt.ValidTo + _options.ClockSkew)
        {
            return JwtVerification.Fail(TokenFailures.Expired, $"The {profile.Name} has expired.");
        }

        if (jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Nbf, out _) && now + _options.ClockSkew < jwt.ValidFrom)
        {
            return JwtVerification.Fail(TokenFailures.NotYetValid, $"The {profile.Name} is not valid yet.");
        }

        return new JwtVerification(jwt, result, null, null);
    }
}
