using System.Security.Claims;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 6749 §4.4: a client acting for itself. The subject is the client; scopes are those requested (already
/// checked against the client's permissions) or, when none are requested, all of the client's API scopes.
/// </summary>
public sealed class IssueClientCredentialsTokens(ClientRegistry clients, AudienceSelector audiences) : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    /// <summary>Scopes that only mean something when a user takes part; never granted to a client acting for itself.</summary>
    internal static readonly HashSet<string> UserScopes = new(StringComparer.Ordinal)
    {
        Scopes.OpenId, Scopes.OfflineAccess, Scopes.Profile, Scopes.Email, Scopes.Phone, Scopes.Address,
    };

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
        .UseSingletonHandler<IssueClientCredentialsTokens>()
        .SetOrder(OpenIddictServerHandlers.Exchange.AttachPrincipal.Descriptor.Order + 1_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        if (!context.Request.IsClientCredentialsGrantType())
        {
            return ValueTask.CompletedTask;
        }

        var client = clients.Find(context.ClientId);
        if (client is null)
        {
            context.Reject(Errors.InvalidClient, "The client is not registered.");
            return ValueTask.CompletedTask;
        }

        var requested = context.Request.GetScopes();
        if (requested.Any(UserScopes.Contains))
        {
            // No user takes part in this grant, so user scopes have no meaning here.
            context.Reject(Errors.InvalidScope, "User scopes (openid, profile, email, offline_access) cannot be requested with client_credentials.");
            return ValueTask.CompletedTask;
        }

        var scopes = requested.IsDefaultOrEmpty ? client.Scopes.Where(s => !UserScopes.Contains(s)).ToList() : [.. requested];
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Subject, Claims.Role);
        identity.SetClaim(Claims.Subject, client.ClientId);
        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(scopes);
        principal.SetResources(audiences.Select(client, context.Request.GetResources()));
        if (client.AccessTokenLifetime is { } lifetime)
        {
            principal.SetAccessTokenLifetime(lifetime);
        }

        context.Principal = principal;
        return ValueTask.CompletedTask;
    }
}
