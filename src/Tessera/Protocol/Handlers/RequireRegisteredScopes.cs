using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 6749 §4.1.2.1 and §5.2: a scope the client is not registered for is <c>invalid_scope</c>. Runs before
/// OpenIddict's own permission check, which answers <c>invalid_request</c>.
/// </summary>
public sealed class RequireRegisteredScopes(ClientRegistry clients) :
    IOpenIddictServerHandler<ValidateAuthorizationRequestContext>,
    IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor AuthorizationDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
        .UseSingletonHandler<RequireRegisteredScopes>()
        .SetOrder(Authentication.ValidateScopePermissions.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public static OpenIddictServerHandlerDescriptor TokenDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .UseSingletonHandler<RequireRegisteredScopes>()
        .SetOrder(Exchange.ValidateScopePermissions.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
    {
        Check(context, context.ClientId, context.Request.GetScopes());
        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        Check(context, context.ClientId, context.Request.GetScopes());
        return ValueTask.CompletedTask;
    }

    private void Check(BaseValidatingContext context, string? clientId, IEnumerable<string> scopes)
    {
        var client = clients.Find(clientId);
        if (client is null)
        {
            return;
        }

        var unknown = scopes.FirstOrDefault(s => s != Scopes.OpenId && !client.Scopes.Contains(s, StringComparer.Ordinal));
        if (unknown is not null)
        {
            context.Reject(Errors.InvalidScope, $"The client is not registered for the scope '{(unknown.Length > 100 ? unknown[..100] : unknown)}'.");
        }
    }
}
