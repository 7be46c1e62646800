using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 6749 §5.2: a client_credentials request without client authentication is <c>invalid_client</c>, and one
/// from a public client (which has nothing to authenticate with) is <c>unauthorized_client</c>. OpenIddict would
/// answer both with <c>invalid_request</c>.
/// </summary>
public sealed class ClientCredentialsNeedAuthentication(ClientRegistry clients) : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .UseSingletonHandler<ClientCredentialsNeedAuthentication>()
        .SetOrder(OpenIddictServerHandlers.Exchange.ValidateClientCredentialsParameters.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        var request = context.Request;
        if (!request.IsClientCredentialsGrantType() || !string.IsNullOrEmpty(request.ClientSecret) || !string.IsNullOrEmpty(request.ClientAssertion))
        {
            return ValueTask.CompletedTask;
        }

        if (clients.Find(request.ClientId) is { Type: "public" })
        {
            context.Reject(Errors.UnauthorizedClient, "A public client cannot use the client_credentials grant.");
        }
        else
        {
            context.Reject(Errors.InvalidClient, "Client authentication is required for the client_credentials grant.");
        }

        return ValueTask.CompletedTask;
    }
}
