using System.Collections.Concurrent;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Tessera.Telemetry;

namespace Tessera.Federation;

/// <summary>
/// One discovery-and-JWKS cache per upstream issuer, shared by every request. Documents are cached and
/// refreshed in the background; an unknown <c>kid</c> asks for a refresh, at most once per refresh interval.
/// </summary>
public sealed class OidcMetadataCache(IHttpClientFactory httpClients, TesseraTelemetry telemetry)
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
            var discovery = key + "/.well-known/openid-configuration";
            var retriever = new CountedRetriever(new HttpDocumentRetriever(httpClients.CreateClient(HttpClientName)) { RequireHttps = requireHttps }, discovery, telemetry);
            return new ConfigurationManager<OpenIdConnectConfiguration>(discovery, new OpenIdConnectConfigurationRetriever(), retriever)
            {
                RefreshInterval = RefreshInterval,
                AutomaticRefreshInterval = TimeSpan.FromHours(12),
            };
        });
    }

    /// <summary>Counts each fetch the manager makes: the discovery document, then the key set it names.</summary>
    private sealed class CountedRetriever(IDocumentRetriever inner, string discovery, TesseraTelemetry telemetry) : IDocumentRetriever
    {
        public async Task<string> GetDocumentAsync(string address, CancellationToken cancel)
        {
            var kind = address == discovery ? TesseraTelemetry.FetchKinds.OidcDiscovery : TesseraTelemetry.FetchKinds.OidcKeys;
            try
            {
                var document = await inner.GetDocumentAsync(address, cancel);
                telemetry.MetadataFetch(kind, succeeded: true);
                return document;
            }
            catch
            {
                telemetry.MetadataFetch(kind, succeeded: false);
                throw;
            }
        }
    }
}
