using System.Collections.Concurrent;
using System.Text.Json;
using Tessera.Federation;

namespace Tessera.Exchange;

/// <summary>
/// Finds a trusted issuer's <c>jwks_uri</c> in its OpenID Connect discovery document when none is configured.
/// The document must name the issuer exactly as configured (OpenID Connect Discovery §4.3); the answer is cached
/// like the keys, and a failed fetch keeps the last good answer.
/// </summary>
public sealed partial class IssuerDiscovery(IHttpClientFactory httpClients, TimeProvider time, ILogger<IssuerDiscovery> logger)
{
    private readonly ConcurrentDictionary<string, (Uri? JwksUri, DateTimeOffset Until)> _known = new(StringComparer.Ordinal);

    public async ValueTask<Uri?> JwksUriAsync(TrustedIssuer issuer, CancellationToken cancellationToken)
    {
        if (issuer.JwksUri is not null)
        {
            return issuer.JwksUri;
        }

        var now = time.GetUtcNow();
        _known.TryGetValue(issuer.Issuer, out var known);
        if (known.JwksUri is not null && now < known.Until)
        {
            return known.JwksUri;
        }

        if (known.JwksUri is null && now < known.Until)
        {
            return null; // failed recently: do not hammer the issuer
        }

        var found = await FetchAsync(issuer, cancellationToken);
        _known[issuer.Issuer] = found is not null
            ? (found, now + issuer.Keys.DefaultCacheDuration)
            : (known.JwksUri, now + issuer.Keys.RefreshInterval);
        return found ?? known.JwksUri;
    }

    private async Task<Uri?> FetchAsync(TrustedIssuer issuer, CancellationToken cancellationToken)
    {
        var address = issuer.Issuer.TrimEnd('/') + "/.well-known/openid-configuration";
        try
        {
            using var response = await httpClients.CreateClient(OidcMetadataCache.HttpClientName).GetAsync(address, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                DiscoveryFailed(logger, issuer.Id, $"HTTP {(int)response.StatusCode}");
                return null;
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = document.RootElement;
            if (!root.TryGetProperty("issuer", out var named) || named.GetString() != issuer.Issuer)
            {
                DiscoveryFailed(logger, issuer.Id, "the document names a different issuer");
                return null;
            }

            if (!root.TryGetProperty("jwks_uri", out var jwks) || !Uri.TryCreate(jwks.GetString(), UriKind.Absolute, out var uri)
                || !(uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            {
                DiscoveryFailed(logger, issuer.Id, "no usable jwks_uri");
                return null;
            }

            return uri;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            DiscoveryFailed(logger, issuer.Id, exception.GetType().Name);
            return null;
        }
    }

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Discovery for trusted issuer {IssuerId} failed: {Reason}")]
    private static partial void DiscoveryFailed(ILogger logger, string issuerId, string reason);
}
