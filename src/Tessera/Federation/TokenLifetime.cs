using Microsoft.IdentityModel.Tokens;

namespace Tessera.Federation;

/// <summary>
/// The exp / nbf check of tokens from elsewhere, on Tessera's clock (IdentityModel's own check reads the system
/// clock): an expiry is required, and both bounds get the issuer's skew. Failures are IdentityModel's exceptions,
/// carrying the bound that failed, so callers map and report them as they do the handler's own.
/// </summary>
public static class TokenLifetime
{
    public static bool Holds(DateTimeOffset now, DateTime? notBefore, DateTime? expires, TimeSpan skew)
    {
        var utcNow = now.UtcDateTime;
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiry.");
        }

        if (utcNow - skew >= expires.Value)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires.Value };
        }

        if (notBefore is not null && notBefore.Value > utcNow + skew)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = notBefore.Value };
        }

        return true;
    }
}
