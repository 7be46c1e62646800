using System.Collections.Concurrent;
using System.Text.Json;
using Tessera.Federation;
using Tessera.Telemetry;

namespace Tessera.Exchange;

/// <summary>
/// Finds a trusted issuer's <c>jwks_uri</c> in its OpenID Connect discovery document when none is configured.
/// The document must name the issuer exactly as configured (OpenID Connect Discovery §4.3); the answer is cached
/// like the keys, concurrent callers share one fetch, and a failed fetch keeps the last good answer.
/// </summary>
public sealed partial class IssuerDiscovery(IHttpClientFactory httpClients, TimeProvider time, TesseraTelemetry telemetry, ILogger<IssuerDiscovery> logger)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public async ValueTask<Uri?> JwksUriAsync(TrustedIssuer issuer, CancellationToken cancellationToken)
    {
        if (issuer.JwksUri is not null)
        {
            return issuer.JwksUri;
        }

        var entry = _entries.GetOrAdd(issuer.Issuer, _ => new Entry());
        var known = entry.Known;
        if (time.GetUtcNow() < known.Until)
        {
            return known.JwksUri; // fresh, or failed recently and not to be asked again yet
        }

        Task<Answer> task;
        lock (entry)
        {
            // Concurrent callers share one fetch, as with the keys.
            task = entry.InFlight ??= RefreshAsync(issuer, entry);
        }

        return (await task.WaitAsync(cancellationToken)).JwksUri;
    }

    private async Task<Answer> RefreshAsync(TrustedIssuer issuer, Entry entry)
    {
        await Task.Yield();
        try
        {
            var found = await FetchAsync(issuer, CancellationToken.None);
            telemetry.MetadataFetch(TesseraTelemetry.FetchKinds.IssuerDiscovery, found is not null);
            var now = time.GetUtcNow();
            entry.Known = found is not null
                ? new Answer(found, now + issuer.Keys.DefaultCacheDuration)
                : new Answer(entry.Known.JwksUri, now + issuer.Keys.RefreshInterval); // keep the last good answer
            return entry.Known;
        }
        finally
        {
            lock (entry)
            {
                entry.InFlight = null;
            }
        }
    }

    private sealed record Answer(Uri? JwksUri, DateTimeOffset Until);

    private sealed class Entry
    {
        public Answer Known { get; set; } = new(null, DateTimeOffset.MinValue);
        public Task<Answer>? InFlight { get; set; }
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
            DiscoveryFailed(logger, issuer.Id, UpstreamAddressRefusedException.Caused(exception) ? UpstreamAddressRefusedException.Reason : exception.GetType().Name);
            return null;
        }
    }

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Discovery for trusted issuer {IssuerId} failed: {Reason}")]
    private static partial void DiscoveryFailed(ILogger logger, string issuerId, string reason);
}
