using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// OpenID Connect Core §5.3: userinfo answers from the user record, per granted scope, plus the organization
/// and the claims the mapping rules granted (carried in the access token).
/// </summary>
public sealed class AttachUserInfoClaims(TesseraDbContext db) : IOpenIddictServerHandler<HandleUserInfoRequestContext>
{
    private static readonly HashSet<string> Standard = new(StringComparer.Ordinal)
    {
        Claims.Subject, Claims.Audience, Claims.ClientId, Claims.Scope, Claims.JwtId, Claims.Issuer, Claims.IssuedAt,
        Claims.ExpiresAt, Claims.NotBefore, TesseraClaims.SessionId,
    };

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleUserInfoRequestContext>()
        .UseScopedHandler<AttachUserInfoClaims>()
        .SetOrder(UserInfo.AttachClaims.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(HandleUserInfoRequestContext context)
    {
        var principal = context.AccessTokenPrincipal;
        if (!Guid.TryParse(principal.GetClaim(Claims.Subject), out var userId))
        {
            return; // a client-credentials token has no user behind it
        }

        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, context.CancellationToken);
        if (user is null || user.DisabledAt is not null)
        {
            context.Reject(Errors.InvalidToken, "The user is no longer active.");
            return;
        }

        if (principal.HasScope(Scopes.Email) && user.Email is not null)
        {
            context.Email = user.Email;
            context.EmailVerified = user.EmailVerified;
        }

        if (principal.HasScope(Scopes.Profile))
        {
            context.Claims[Claims.Name] = user.Name;
            context.Claims[Claims.GivenName] = user.GivenName;
            context.Claims[Claims.FamilyName] = user.FamilyName;
        }

        foreach (var claim in principal.Claims)
        {
            if (!Standard.Contains(claim.Type) && !claim.Type.StartsWith(Claims.Prefixes.Private, StringComparison.Ordinal))
            {
                context.Claims[claim.Type] = claim.Value;
            }
        }
    }
}
