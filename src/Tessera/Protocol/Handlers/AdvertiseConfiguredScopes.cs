using OpenIddict.Server;
using Tessera.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>Discovery lists the scopes of the live configuration (OpenID Connect Discovery §3, scopes_supported).</summary>
public sealed class AdvertiseConfiguredScopes(TesseraConfiguration configuration) : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
        .UseSingletonHandler<AdvertiseConfiguredScopes>()
        .SetOrder(Discovery.AttachScopes.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        context.Scopes.Clear();
        context.Scopes.UnionWith([Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.OfflineAccess]);
        context.Scopes.UnionWith(configuration.Current.ClientScopes);
        return ValueTask.CompletedTask;
    }
}
