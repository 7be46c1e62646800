using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.IdentityModel.Tokens;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Telemetry;

namespace Tessera.Exchange;

/// <summary>
/// One key-set cache per trusted issuer, shared by every request. Keys live as long as the issuer's Cache-Control
/// says within the policy's bounds; a token signed with an unknown <c>kid</c> refreshes them at most once per
/// refresh interval, and concurrent requests that miss share that one fetch. When the issuer's endpoint is down,
/// the keys already fetched keep working for a bounded time; each failure is logged and counted. So at any request
/// rate the issuer sees at most one request per refresh interval.
/// </summary>
public sealed partial class IssuerKeyCache(IHttpClientFactory httpClients, TimeProvider time, TesseraTelemetry telemetry, ILogger<IssuerKeyCache> logger)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>
    /// The issuer's signing keys, refreshed first when they are stale or when <paramref name="kid"/> is not among
    /// them and the last fetch is older than the refresh interval. Empty when none could ever be fetched, or the
    /// last good ones are older than the stale lifetime.
    /// </summary>
    public ValueTask<IReadOnlyList<JsonWebKey>> GetKeysAsync(string issuerId, Uri jwksUri, IssuerKeyOptions policy, string? kid, CancellationToken cancellationToken) =>
        GetKeysAsync(issuerId, jwksUri, policy, kid, ReadJwks, cancellationToken);

    /// <summary>
    /// As above for a document that is not a bare JWK Set (an SD-JWT VC issuer's <c>/.well-known/jwt-vc-issuer</c>):
    /// <paramref name="read"/> takes its keys out of the body, or returns null when the document is not acceptable.
    /// </summary>
    public async ValueTask<IReadOnlyList<JsonWebKey>> GetKeysAsync(string issuerId, Uri jwksUri, IssuerKeyOptions policy, string? kid, Func<string, IReadOnlyList<JsonWebKey>?> read, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(issuerId + "\n" + jwksUri.AbsoluteUri, _ => new Entry());
        var now = time.GetUtcNow();
        var state = entry.State;
        var missing = kid is not null && !state.Keys.Any(k => k.KeyId == kid);
        var due = state.LastAttempt is null || now >= state.ExpiresAt || (missing && now - state.LastAttempt >= policy.RefreshInterval);
        if (due)
        {
            // The fetch is shared, so no single caller's cancellation may cancel it (the HTTP client has its own timeout).
            state = await entry.RefreshAsync(state, () => FetchAsync(issuerId, jwksUri, policy, read, entry.State), cancellationToken);
        }

        return state.LastSuccess is { } success && time.GetUtcNow() - success <= policy.StaleLifetime ? state.Keys : [];
    }

    private static IReadOnlyList<JsonWebKey> ReadJwks(string body) => [.. new JsonWebKeySet(body).Keys];

    private async Task<KeyState> FetchAsync(string issuerId, Uri jwksUri, IssuerKeyOptions policy, Func<string, IReadOnlyList<JsonWebKey>?> read, KeyState previous)
    {
        var attempt = time.GetUtcNow();
        try
        {
            using var response = await httpClients.CreateClient(OidcMetadataCache.HttpClientName).GetAsync(jwksUri, CancellationToken.None);
            if (!response.IsSuccessStatusCode)
            {
                return Failed(issuerId, previous, attempt, policy, $"HTTP {(int)response.StatusCode}");
            }

            if (read(await response.Content.ReadAsStringAsync(CancellationToken.None)) is not { } document)
            {
                return Failed(issuerId, previous, attempt, policy, "the document is not acceptable");
            }

            var keys = document.Where(k => k.Kty is "RSA" or "EC" && k.Use is null or "" or "sig").ToList();
            telemetry.MetadataFetch(TesseraTelemetry.FetchKinds.IssuerKeys, succeeded: true);
            return new KeyState(keys, attempt, attempt, attempt + CacheDuration(response.Headers.CacheControl, policy));
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or ArgumentException or InvalidOperationException)
        {
            return Failed(issuerId, previous, attempt, policy, UpstreamAddressRefusedException.Caused(exception) ? UpstreamAddressRefusedException.Reason : exception.GetType().Name);
        }
    }

    private KeyState Failed(string issuerId, KeyState previous, DateTimeOffset attempt, IssuerKeyOptions policy, string reason)
    {
        telemetry.MetadataFetch(TesseraTelemetry.FetchKinds.IssuerKeys, succeeded: false);
        KeyFetchFailed(logger, issuerId, reason, previous.Keys.Count);

        // Keep what worked and try again after the refresh interval, not on every request.
        return previous with { LastAttempt = attempt, ExpiresAt = attempt + policy.RefreshInterval };
    }

    /// <summary>RFC 9111 §5.2.2: max-age, or no-store / no-cache, clamped to the policy's bounds.</summary>
    private static TimeSpan CacheDuration(CacheControlHeaderValue? cacheControl, IssuerKeyOptions policy)
    {
        var asked = cacheControl switch
        {
            { NoStore: true } or { NoCache: true } => TimeSpan.Zero,
            { MaxAge: { } maxAge } => maxAge,
            _ => policy.DefaultCacheDuration,
        };
        return asked < policy.MinCacheDuration ? policy.MinCacheDuration : asked > policy.MaxCacheDuration ? policy.MaxCacheDuration : asked;
    }

    private sealed record KeyState(IReadOnlyList<JsonWebKey> Keys, DateTimeOffset? LastAttempt, DateTimeOffset? LastSuccess, DateTimeOffset ExpiresAt)
    {
        public static readonly KeyState Empty = new([], null, null, DateTimeOffset.MinValue);
    }

    /// <summary>An issuer's keys, and the one fetch in flight that every concurrent miss waits for.</summary>
    private sealed class Entry
    {
        private readonly Lock _gate = new();
        private Task<KeyState>? _inFlight;

        public KeyState State { get; private set; } = KeyState.Empty;

        /// <summary>Refreshes unless someone already did since <paramref name="observed"/> was read; joins a fetch in flight.</summary>
        public async Task<KeyState> RefreshAsync(KeyState observed, Func<Task<KeyState>> fetch, CancellationToken cancellationToken)
        {
            Task<KeyState> task;
            lock (_gate)
            {
                if (_inFlight is null && !ReferenceEquals(State, observed))
                {
                    return State;
                }

                task = _inFlight ??= Run(fetch);
            }

            return await task.WaitAsync(cancellationToken);
        }

        private async Task<KeyState> Run(Func<Task<KeyState>> fetch)
        {
            await Task.Yield();
            try
            {
                State = await fetch();
                return State;
            }
            finally
            {
                lock (_gate)
                {
                    _inFlight = null;
                }
            }
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Fetching the keys of trusted issuer {IssuerId} failed ({Reason}); keeping {KeyCount} keys fetched before")]
    private static partial void KeyFetchFailed(ILogger logger, string issuerId, string reason, int keyCount);
}
