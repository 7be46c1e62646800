using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>Who an access token at the credential endpoint speaks for: the user, the scopes, and the client (none for a pre-authorized code).</summary>
public sealed record CredentialGrant(UserRecord User, IReadOnlySet<string> Scopes, string? ClientId);

/// <summary>
/// Authenticates the credential endpoint's bearer tokens (OpenID4VCI 1.0 §8.2, RFC 6750): Tessera's own access tokens
/// (<c>at+jwt</c>, from the authorization code flow at <c>/token</c>, or from a pre-authorized code at
/// <see cref="CredentialEndpoints.TokenPath"/>), signed by the key ring, unexpired, not revoked, for a user still enabled,
/// and meant for the credential issuer: its identifier is in <c>aud</c>, so that a token issued for another resource
/// cannot be spent here.
/// </summary>
public sealed class CredentialAccess(KeyRing keys, TesseraIssuer issuer, TesseraDbContext db, TimeProvider time)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>The authorization server that turns pre-authorized codes into access tokens: Tessera, under its own identifier.</summary>
    public static string PreAuthorizedServer(TesseraIssuer issuer) => issuer.Url("/credentials");

    public async Task<(CredentialGrant? Grant, string? Error)> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length is 0 or > 16 * 1024)
        {
            return (null, "the access token is empty or too long");
        }

        var preAuthorized = PreAuthorizedServer(issuer);
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuers = [issuer.Name, preAuthorized],
            // RFC 9068 §4, OpenID4VCI 1.0 §8.2: the token must name the credential issuer as its audience.
            ValidAudiences = [issuer.Name],
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256],
            IssuerSigningKeys = keys.VerificationKeys(),
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (notBefore, expires, _, p) => Federation.TokenLifetime.Holds(time.GetUtcNow(), notBefore, expires, p.ClockSkew),
        });
        if (!result.IsValid)
        {
            return (null, result.Exception switch
            {
                SecurityTokenExpiredException => "the access token has expired",
                SecurityTokenInvalidAudienceException => "the access token is not meant for the credential issuer",
                _ => "the access token does not verify",
            });
        }

        var jwt = (JsonWebToken)result.SecurityToken;

        if (!Guid.TryParse(jwt.Subject, out var userId) || await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, cancellationToken) is not { } user)
        {
            return (null, "the access token names no user");
        }

        if (user.DisabledAt is not null || user.TokensValidAfter is { } after && jwt.IssuedAt < after.AddSeconds(-1))
        {
            return (null, "the access token's user has been cut off");
        }

        if (jwt.Id is { Length: > 0 } jti && await db.RevokedTokens.AnyAsync(r => r.TokenId == jti, cancellationToken))
        {
            return (null, "the access token has been revoked");
        }

        var scopes = jwt.TryGetPayloadValue<string>("scope", out var scope) ? scope.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : jwt.TryGetPayloadValue<string[]>("scope", out var list) ? list : [];
        var clientId = jwt.TryGetPayloadValue<string>("client_id", out var client) ? client : null;
        return (new CredentialGrant(user, scopes.ToHashSet(StringComparer.Ordinal), clientId), null);
    }
}
