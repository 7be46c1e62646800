using System.Collections.Concurrent;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Tessera.Federation;

/// <summary>
/// One discovery-and-JWKS cache per upstream issuer, shared by every request. Documents are cached and
/// refreshed in the background; an unknown <c>kid</c> asks for a refresh, at most once per refresh interval.
/// </summary>
public sealed class OidcMetadataCache(IHttpClientFactory httpClients)
{
    public const string HttpClientName = "upstream";

    /// <summary>Shortest time between two forced refreshes of one issuer's metadata.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> _managers = new(StringComparer.Ordinal);

    /// <summary>
    /// A refresh requested for an unknown kid is awaited by the request that needs it (concurrent requests share
    /// it), instead of running in the background while that request fails with the stale keys. IdentityModel reads
    /// the switch once per process, so this runs before anything else is composed.
    /// </summary>
    public static void UseBlockingRefresh() => AppContext.SetSwitch("Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking", true);

    public ConfigurationManager<OpenIdConnectConfiguration> For(string authority)
    {
        var normalized = authority.TrimEnd('/');
        return _managers.GetOrAdd(normalized, key =>
        {
            var requireHttps = !Uri.TryCreate(key, UriKind.Absolute, out var uri) || !uri.IsLoopback;
            var retriever = new HttpDocumentRetriever(httpClients.CreateClient(HttpClientName)) { RequireHttps = requireHttps };
            return new ConfigurationManager<OpenIdConnectConfiguration>(
                key + "/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(), retriever)
            {
                RefreshInterval = RefreshInterval,
                AutomaticRefreshInterval = TimeSpan.FromHours(12),
            };
        });
    }
}
