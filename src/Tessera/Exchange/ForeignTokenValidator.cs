using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Federation;
using Tessera.Hosting;

namespace Tessera.Exchange;

/// <summary>
/// A foreign issuer Tessera trusts to vouch for subjects: where its keys are (null: from its discovery document)
/// and what its tokens must say.
/// </summary>
public sealed record TrustedIssuer(string Id, string Issuer, Uri? JwksUri, IReadOnlyList<string> Algorithms, IReadOnlyList<string> Audiences, string SubjectClaim)
{
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);
    public IssuerKeyOptions Keys { get; init; } = new();
}

/// <summary>A verified foreign token and its subject, or the rule it broke with a description safe to return.</summary>
public sealed record ForeignTokenResult(TrustedIssuer? Issuer, JsonWebToken? Token, string? Subject, string? Rule, string? Description)
{
    public bool Succeeded => Token is not null;

    public static ForeignTokenResult Fail(string rule, string description) => new(null, null, null, rule, description);
}

/// <summary>
/// Verifies a JWT from a trusted foreign issuer (DESIGN invariant 1): the issuer must be configured; the algorithm
/// must be on that issuer's list (asymmetric only, never <c>none</c>); the key must come from that issuer's own key
/// set, never from the token (<c>jku</c>, <c>x5u</c>, <c>jwk</c>, <c>x5c</c> are refused, as is any <c>crit</c>
/// extension); then audience, expiry and not-before with the issuer's skew, and the subject claim.
/// </summary>
public sealed class ForeignTokenValidator(IssuerKeyCache keys, IssuerDiscovery discovery, TimeProvider time)
{
    public const int MaxTokenLength = 16 * 1024;

    private static readonly string[] KeyReferenceHeaders = ["jku", "x5u", "jwk", "x5c"];
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <param name="name">What the token is to the caller ("subject token", "actor token"), for the descriptions.</param>
    public Task<ForeignTokenResult> ValidateAsync(string token, IReadOnlyList<TrustedIssuer> trusted, CancellationToken cancellationToken, string name = "subject token")
    {
        if (token.Length > MaxTokenLength)
        {
            return Task.FromResult(ForeignTokenResult.Fail("oversized", $"The {name} is larger than allowed."));
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return Task.FromResult(ForeignTokenResult.Fail("malformed", $"The {name} is not a well-formed JWT."));
        }

        return ValidateAsync(jwt, trusted, cancellationToken, name);
    }

    /// <summary>The same checks on a token the caller already parsed (and checked for size).</summary>
    public async Task<ForeignTokenResult> ValidateAsync(JsonWebToken jwt, IReadOnlyList<TrustedIssuer> trusted, CancellationToken cancellationToken, string name = "subject token")
    {
        if (string.IsNullOrEmpty(jwt.Alg) || jwt.Alg == "none" || string.IsNullOrEmpty(jwt.EncodedSignature))
        {
            return ForeignTokenResult.Fail("algorithm", $"The {name} is not signed.");
        }

        // RFC 7515 §4.1.2-4.1.6: keys named by the token itself are never fetched or trusted.
        if (KeyReferenceHeaders.FirstOrDefault(name => jwt.TryGetHeaderValue<object>(name, out _)) is { } header)
        {
            return ForeignTokenResult.Fail("key_reference", $"The {name} names its own key ('{header}'); keys come only from the issuer's configured key set.");
        }

        // RFC 7515 §4.1.11: Tessera understands no extension, so any critical one makes the token unacceptable.
        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            return ForeignTokenResult.Fail("critical_header", $"The {name} has a critical header extension Tessera does not understand.");
        }

        var issuer = trusted.FirstOrDefault(i => string.Equals(i.Issuer, jwt.Issuer, StringComparison.Ordinal));
        if (issuer is null)
        {
            return ForeignTokenResult.Fail("untrusted_issuer", $"The {name}'s issuer is not trusted.");
        }

        if (!issuer.Algorithms.Contains(jwt.Alg, StringComparer.Ordinal))
        {
            return ForeignTokenResult.Fail("algorithm", $"The algorithm '{Short(jwt.Alg)}' is not accepted from this issuer.");
        }

        var jwksUri = await discovery.JwksUriAsync(issuer, cancellationToken);
        var signingKeys = jwksUri is null ? [] : await keys.GetKeysAsync(issuer.Id, jwksUri, issuer.Keys, jwt.Kid, cancellationToken);
        var result = await Handler.ValidateTokenAsync(jwt, Parameters(issuer, signingKeys));
        if (!result.IsValid)
        {
            return result.Exception switch
            {
                SecurityTokenExpiredException => ForeignTokenResult.Fail("expired", $"The {name} has expired."),
                SecurityTokenNotYetValidException => ForeignTokenResult.Fail("not_yet_valid", $"The {name} is not valid yet."),
                SecurityTokenNoExpirationException => ForeignTokenResult.Fail("expired", $"The {name} has no expiry."),
                SecurityTokenInvalidAudienceException => ForeignTokenResult.Fail("audience", $"The {name} is not meant for Tessera (aud)."),
                SecurityTokenSignatureKeyNotFoundException => ForeignTokenResult.Fail("unknown_key", $"The {name} is signed with a key its issuer does not publish."),
                _ => ForeignTokenResult.Fail("signature", $"The {name}'s signature does not verify with its issuer's keys."),
            };
        }

        var subject = jwt.TryGetPayloadValue<object>(issuer.SubjectClaim, out var value) ? value?.ToString() : null;
        if (string.IsNullOrWhiteSpace(subject) || subject.Length > 255)
        {
            return ForeignTokenResult.Fail("subject", $"The {name} carries no usable '{issuer.SubjectClaim}' claim.");
        }

        return new ForeignTokenResult(issuer, jwt, subject, null, null);
    }

    /// <summary>
    /// The validation parameters of one issuer with one fetched key set, made once and shared (they are only read):
    /// a new key set, or a new configuration of the issuer, makes new ones.
    /// </summary>
    private TokenValidationParameters Parameters(TrustedIssuer issuer, IReadOnlyList<JsonWebKey> signingKeys)
    {
        if (_parameters.TryGetValue(signingKeys, out var cached) && ReferenceEquals(cached.Issuer, issuer))
        {
            return cached.Parameters;
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = issuer.Issuer,
            ValidAudiences = issuer.Audiences,
            ValidAlgorithms = issuer.Algorithms,
            IssuerSigningKeys = signingKeys,
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = issuer.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, p) => TokenLifetime.Holds(time.GetUtcNow(), notBefore, expires, p.ClockSkew),
        };
        _parameters.AddOrUpdate(signingKeys, new CachedParameters(issuer, parameters));
        return parameters;
    }

    private sealed record CachedParameters(TrustedIssuer Issuer, TokenValidationParameters Parameters);

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlyList<JsonWebKey>, CachedParameters> _parameters = [];

    private static string Short(string value) => value.Length > 20 ? value[..20] : value;
}
