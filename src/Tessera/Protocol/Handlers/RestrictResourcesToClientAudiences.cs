using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>RFC 8707 §2: a <c>resource</c> the client is not registered for is refused with <c>invalid_target</c>.</summary>
public sealed class RestrictResourcesToClientAudiences(ClientRegistry clients, AudienceSelector audiences) : ClientRegistrationCheck(clients)
{
    public static OpenIddictServerHandlerDescriptor AuthorizationDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
        .UseSingletonHandler<RestrictResourcesToClientAudiences>()
        .SetOrder(Authentication.ValidateResourcePermissions.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public static OpenIddictServerHandlerDescriptor TokenDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .UseSingletonHandler<RestrictResourcesToClientAudiences>()
        .SetOrder(OpenIddictServerHandlers.Exchange.ValidateResourcePermissions.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    protected override (string Error, string Description)? Violation(ClientOptions client, OpenIddictRequest request) =>
        audiences.AllAllowed(client, request.GetResources())
            ? null
            : (Errors.InvalidTarget, "The requested resource is not one this client may obtain tokens for.");
}
