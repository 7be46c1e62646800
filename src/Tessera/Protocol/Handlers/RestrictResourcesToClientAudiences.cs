using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>RFC 8707 §2: a <c>resource</c> the client is not registered for is refused with <c>invalid_target</c>.</summary>
public sealed class RestrictResourcesToClientAudiences(ClientRegistry clients) :
    IOpenIddictServerHandler<ValidateAuthorizationRequestContext>,
    IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor AuthorizationDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
        .UseSingletonHandler<RestrictResourcesToClientAudiences>()
        .SetOrder(Authentication.ValidateResourcePermissions.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public static OpenIddictServerHandlerDescriptor TokenDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .UseSingletonHandler<RestrictResourcesToClientAudiences>()
        .SetOrder(Exchange.ValidateResourcePermissions.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
    {
        Check(context, context.ClientId, context.Request.GetResources());
        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        Check(context, context.ClientId, context.Request.GetResources());
        return ValueTask.CompletedTask;
    }

    private void Check(BaseValidatingContext context, string? clientId, IEnumerable<string> resources)
    {
        var client = clients.Find(clientId);
        if (client is not null && !AudienceSelector.AllAllowed(client, resources))
        {
            context.Reject(Errors.InvalidTarget, "The requested resource is not one this client may obtain tokens for.");
        }
    }
}
