using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 6749 §4.1.2.1 and §5.2: a scope the client is not registered for is <c>invalid_scope</c>. Runs before
/// OpenIddict's own permission check, which answers <c>invalid_request</c>.
/// </summary>
public sealed class RequireRegisteredScopes(ClientRegistry clients) : ClientRegistrationCheck(clients)
{
    public static OpenIddictServerHandlerDescriptor AuthorizationDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
        .UseSingletonHandler<RequireRegisteredScopes>()
        .SetOrder(Authentication.ValidateScopePermissions.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public static OpenIddictServerHandlerDescriptor TokenDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .UseSingletonHandler<RequireRegisteredScopes>()
        .SetOrder(OpenIddictServerHandlers.Exchange.ValidateScopePermissions.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    protected override (string Error, string Description)? Violation(ClientOptions client, OpenIddictRequest request)
    {
        var unknown = request.GetScopes().FirstOrDefault(s => s != Scopes.OpenId && !client.Scopes.Contains(s, StringComparer.Ordinal));
        return unknown is null ? null : (Errors.InvalidScope, $"The client is not registered for the scope '{(unknown.Length > 100 ? unknown[..100] : unknown)}'.");
    }
}
