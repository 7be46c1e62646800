using System.Security.Claims;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// Who may introspect what (RFC 7662 §4): a client may introspect tokens issued to it, and tokens whose
/// <c>aud</c> names one of its registered audiences (it is that API's resource server). For anything else the
/// answer is <c>active: false</c>, which tells the caller nothing about the token.
/// Replaces OpenIddict's own rule, which also admits any client named in <c>aud</c>.
/// </summary>
public sealed class AuthorizeIntrospectionByAudience(ClientRegistry clients) : IOpenIddictServerHandler<ValidateIntrospectionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
        .UseSingletonHandler<AuthorizeIntrospectionByAudience>()
        .SetOrder(Introspection.ValidateAuthorizedParty.Descriptor.Order)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ValidateIntrospectionRequestContext context)
    {
        var principal = context.GenericTokenPrincipal;
        var caller = clients.Find(context.ClientId);
        if (principal is null || caller is null)
        {
            context.Reject(Errors.InvalidToken, "The token cannot be introspected by this client.");
            return ValueTask.CompletedTask;
        }

        if (!IsIssuedToOrFor(principal, caller))
        {
            context.Reject(Errors.InvalidToken, "The token cannot be introspected by this client.");
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The token was issued to <paramref name="caller"/>, or is an access token for one of its registered audiences.</summary>
    public static bool IsIssuedToOrFor(ClaimsPrincipal principal, ClientOptions caller)
    {
        var issuedToCaller = principal.GetPresenters().Contains(caller.ClientId, StringComparer.Ordinal)
            || string.Equals(principal.GetClaim(Claims.ClientId), caller.ClientId, StringComparison.Ordinal)
            || principal.HasTokenType(TokenTypeIdentifiers.IdentityToken) && principal.GetAudiences().Contains(caller.ClientId, StringComparer.Ordinal);
        var forCallersApi = principal.HasTokenType(TokenTypeIdentifiers.AccessToken)
            && principal.GetAudiences().Any(a => caller.Audiences.Contains(a, StringComparer.Ordinal));
        return issuedToCaller || forCallersApi;
    }
}
