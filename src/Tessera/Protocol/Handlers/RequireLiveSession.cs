using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Sessions;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// A code or refresh token is honoured only while the SSO session it came from is alive and the user is enabled:
/// refresh tokens die with their session.
/// </summary>
public sealed class RequireLiveSession(SessionStore sessions, TesseraDbContext db) : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
        .UseScopedHandler<RequireLiveSession>()
        .SetOrder(OpenIddictServerHandlers.Exchange.AttachPrincipal.Descriptor.Order + 500)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        if (!context.Request.IsAuthorizationCodeGrantType() && !context.Request.IsRefreshTokenGrantType())
        {
            return;
        }

        var sessionId = context.Principal?.GetClaim(TesseraClaims.SessionId);
        var session = await sessions.FindActiveByIdAsync(sessionId, context.CancellationToken);
        if (session is null)
        {
            context.Reject(Errors.InvalidGrant, "The sign-in session behind this grant has ended.");
            return;
        }

        var disabled = await db.Users.Where(u => u.Id == session.UserId).Select(u => u.DisabledAt).FirstOrDefaultAsync(context.CancellationToken);
        if (disabled is not null)
        {
            context.Reject(Errors.InvalidGrant, "The user is disabled.");
        }
    }
}
