using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Hosting;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// A check of an authorization or token request against the client's registration: the same rule, run at both
/// endpoints, answering with the protocol error the subclass names.
/// </summary>
public abstract class ClientRegistrationCheck(ClientRegistry clients) :
    IOpenIddictServerHandler<ValidateAuthorizationRequestContext>,
    IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
    {
        Run(context, context.ClientId, context.Request);
        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        Run(context, context.ClientId, context.Request);
        return ValueTask.CompletedTask;
    }

    /// <summary>The error and description when the request breaks the rule, or null.</summary>
    protected abstract (string Error, string Description)? Violation(ClientOptions client, OpenIddictRequest request);

    private void Run(BaseValidatingContext context, string? clientId, OpenIddictRequest request)
    {
        if (clients.Find(clientId) is { } client && Violation(client, request) is { } violation)
        {
            context.Reject(violation.Error, violation.Description);
        }
    }
}
