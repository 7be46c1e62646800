using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Sessions;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// A code or refresh token is honoured only while the SSO session it came from is alive and the user is enabled:
/// refresh tokens die with their session.
/// </summary>
public sealed class RequireLiveSession(SessionStore sessions) : IOpenIddictServerHandler<HandleTokenRequestContext>
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

        var (session, userDisabled) = await sessions.FindActiveWithUserStateAsync(context.Principal?.GetClaim(TesseraClaims.SessionId), context.CancellationToken);
        if (session is null)
        {
            context.Reject(Errors.InvalidGrant, "The sign-in session behind this grant has ended.");
            return;
        }

        if (userDisabled)
        {
            context.Reject(Errors.InvalidGrant, "The user is disabled.");
        }
    }
}
