using System.Globalization;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using Tessera.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tessera.Protocol;

/// <summary>Translates a configured client into the OpenIddict application it is registered as.</summary>
public static class ClientDescriptorFactory
{
    /// <param name="credentialIssuer">The credential issuer identifier, a resource (RFC 8707) for a client that may ask for credential scopes.</param>
    public static OpenIddictApplicationDescriptor Create(ClientOptions client, string? credentialIssuer = null)
    {
        var isPublic = client.Type == "public";
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = client.ClientId,
            ClientSecret = string.IsNullOrEmpty(client.ClientSecret) ? null : client.ClientSecret,
            ClientType = isPublic ? ClientTypes.Public : ClientTypes.Confidential,
            ApplicationType = ApplicationTypes.Web, // exact redirect URI matching, no loopback port leeway
            ConsentType = ConsentTypes.Implicit,
            DisplayName = client.DisplayName ?? client.ClientId,
            JsonWebKeySet = string.IsNullOrEmpty(client.Jwks) ? null : new JsonWebKeySet(client.Jwks),
        };

        foreach (var uri in client.RedirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        foreach (var uri in client.PostLogoutRedirectUris)
        {
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        descriptor.Permissions.Add(Permissions.Endpoints.Token);
        descriptor.Permissions.Add(Permissions.Endpoints.Revocation);
        if (!isPublic)
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Introspection);
        }

        foreach (var grant in client.GrantTypes)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.GrantType + grant);
            if (grant == GrantTypes.AuthorizationCode)
            {
                descriptor.Permissions.Add(Permissions.Endpoints.Authorization);
                descriptor.Permissions.Add(Permissions.Endpoints.EndSession);
                descriptor.Permissions.Add(Permissions.ResponseTypes.Code);
            }
        }

        foreach (var scope in client.Scopes)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        }

        foreach (var audience in client.Audiences)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Resource + audience);
        }

        if (credentialIssuer is not null && !client.Audiences.Contains(credentialIssuer, StringComparer.Ordinal))
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Resource + credentialIssuer);
        }

        if (isPublic)
        {
            // PKCE is required for public clients; confidential clients may still send it.
            descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
        }

        if (client.AccessTokenLifetime is { } lifetime)
        {
            descriptor.Settings[Settings.TokenLifetimes.AccessToken] = lifetime.ToString("c", CultureInfo.InvariantCulture);
        }

        return descriptor;
    }
}
