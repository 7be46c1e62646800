using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0 §2.1: Tessera sends logout tokens to clients with a <c>BackchannelLogoutUri</c>,
/// and every logout token carries the session's <c>sid</c>.
/// </summary>
public sealed class AdvertiseBackchannelLogout : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
        .UseSingletonHandler<AdvertiseBackchannelLogout>()
        .SetOrder(Discovery.AttachScopes.Descriptor.Order + 200)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        context.Metadata["backchannel_logout_supported"] = true;
        context.Metadata["backchannel_logout_session_supported"] = true;
        return ValueTask.CompletedTask;
    }
}
