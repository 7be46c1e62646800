using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Tessera.Validation;

/// <summary>
/// Local validation of a Tessera access token (RFC 9068): <c>typ</c> <c>at+jwt</c>, Tessera's signature, issuer, this
/// API's audience, lifetime, and the claims the cache and the revocation rules key on (<c>sub</c>, <c>iat</c>).
/// The principal carries one <c>scope</c> claim per scope value, so policies can require a single scope.
/// </summary>
internal sealed class AccessTokenVerifier(TesseraJwtVerifier verifier, IOptions<TesseraValidationOptions> options)
{
    private readonly JwtProfile _profile = new("access token", ["at+jwt", "application/at+jwt"], options.Value.Audience, hasLifetime: true);

    /// <summary>The verified token, or a failed <see cref="TesseraValidationResult"/> naming the rule.</summary>
    public async ValueTask<(VerifiedAccessToken? Token, TesseraValidationResult? Failure)> VerifyAsync(string token, CancellationToken cancellationToken)
    {
        var verification = await verifier.VerifyAsync(token, _profile, cancellationToken);
        if (!verification.Succeeded)
        {
            return (null, TesseraValidationResult.Invalid(verification.Failure!, verification.Description!));
        }

        var jwt = verification.Token!;
        // RFC 9068 §2.2: sub and iat are required; revocations are matched on them.
        if (string.IsNullOrEmpty(jwt.Subject) || !jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Iat, out _))
        {
            return (null, TesseraValidationResult.Invalid(TokenFailures.Claims, "The access token lacks sub or iat."));
        }

        var sessionId = jwt.TryGetPayloadValue<string>("sid", out var sid) && !string.IsNullOrEmpty(sid) ? sid : null;
        var identity = verification.Result!.ClaimsIdentity;
        var principal = new ClaimsPrincipal(WithScopesSplit(identity));
        return (new VerifiedAccessToken(principal, jwt.Subject, sessionId, jwt.IssuedAt, jwt.ValidTo), null);
    }

    /// <summary>RFC 9068 §2.2.3: <c>scope</c> is one space-separated string; it becomes one claim per value.</summary>
    private static ClaimsIdentity WithScopesSplit(ClaimsIdentity identity)
    {
        var claims = new List<Claim>(identity.Claims.Count() + 4);
        foreach (var claim in identity.Claims)
        {
            if (claim.Type != "scope")
            {
                claims.Add(claim);
                continue;
            }

            foreach (var scope in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                claims.Add(new Claim("scope", scope, ClaimValueTypes.String, claim.Issuer));
            }
        }

        return new ClaimsIdentity(claims, identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType);
    }
}
