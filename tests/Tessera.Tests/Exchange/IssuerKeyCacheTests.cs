using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Tessera.Exchange;
using Tessera.Hosting;
using Tessera.Federation;
using Tessera.Telemetry;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Exchange;

/// <summary>A trusted issuer's keys: cached as its Cache-Control says within bounds, refreshed sparingly, kept through outages.</summary>
public sealed class IssuerKeyCacheTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly ServiceProvider _services;
    private readonly IssuerKeyCache _cache;
    private readonly IssuerKeyOptions _policy = new();
    private ForeignIssuer _server = null!;

    public IssuerKeyCacheTests()
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(Logs));
        services.AddMetrics();
        services.AddHttpClient(OidcMetadataCache.HttpClientName);
        services.AddSingleton<TimeProvider>(_time);
        services.AddTesseraInstruments();
        services.AddSingleton<IssuerKeyCache>();
        _services = services.BuildServiceProvider();
        _cache = _services.GetRequiredService<IssuerKeyCache>();
    }

    private CapturedLogs Logs { get; } = new();

    private async Task<ForeignIssuer> Serve(params string[] kids) => _server = await ForeignIssuer.StartAsync(kids);

    private ValueTask<IReadOnlyList<JsonWebKey>> Keys(string? kid) => _cache.GetKeysAsync("partner-portal", _server.JwksUri, _policy, kid, default);

    [Fact]
    public async Task A_burst_of_unknown_kids_costs_the_issuer_one_request_per_refresh_interval()
    {
        await Serve("k1");
        Assert.Single(await Keys("k1"));
        Assert.Equal(1, _server.Requests);

        // The issuer rotates; a minute later 500 concurrent exchanges arrive with the new kid.
        _server.Publish("k2");
        _time.Advance(TimeSpan.FromMinutes(1));
        var burst = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Keys("k2").AsTask()));
        Assert.All(burst, keys => Assert.Contains(keys, k => k.KeyId == "k2"));
        Assert.Equal(2, _server.Requests);

        // A kid that stays unknown: at most one request per refresh interval, however many tokens carry it.
        _time.Advance(TimeSpan.FromSeconds(30));
        await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Keys("k-forged").AsTask()));
        Assert.Equal(3, _server.Requests);
        for (var i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Keys("k-forged").AsTask()));
        }

        Assert.Equal(3, _server.Requests);
        _time.Advance(TimeSpan.FromSeconds(11));
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Keys("k-forged").AsTask()));
        Assert.Equal(4, _server.Requests);
    }

    [Theory]
    [InlineData("max-age=600", 600)]
    [InlineData("max-age=1", 300)]
    [InlineData("max-age=2592000", 86400)]
    [InlineData("no-store", 300)]
    [InlineData(null, 3600)]
    public async Task Cache_control_is_honoured_within_bounds(string? cacheControl, int expectedSeconds)
    {
        await Serve("k1");
        _server.CacheControl = cacheControl;
        await Keys("k1");

        _time.Advance(TimeSpan.FromSeconds(expectedSeconds - 1));
        await Keys("k1");
        Assert.Equal(1, _server.Requests);

        _time.Advance(TimeSpan.FromSeconds(1));
        await Keys("k1");
        Assert.Equal(2, _server.Requests);
    }

    [Fact]
    public async Task Keys_keep_working_through_an_outage_for_the_stale_lifetime_and_the_failures_are_logged()
    {
        await Serve("k1");
        await Keys("k1");
        _server.Down = true;

        _time.Advance(TimeSpan.FromHours(2));
        Assert.Single(await Keys("k1"));
        Assert.Equal(2, _server.Requests);
        Assert.Contains(Logs.Lines, line => line.Contains("partner-portal failed (HTTP 503); keeping 1 keys", StringComparison.Ordinal));

        // Failures retry after the refresh interval, not on every request.
        await Keys("k1");
        Assert.Equal(2, _server.Requests);

        _time.Advance(TimeSpan.FromHours(22).Add(TimeSpan.FromSeconds(1)));
        Assert.Empty(await Keys("k1"));
    }

    [Fact]
    public async Task Symmetric_and_encryption_keys_are_never_offered_for_verification()
    {
        await Serve("k1");
        _server.Extra = """{ "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" }, { "kty": "RSA", "kid": "enc", "use": "enc", "n": "sXch", "e": "AQAB" }""";

        var keys = await Keys("hmac");

        Assert.Equal(["k1"], keys.Select(k => k.KeyId));
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _services.DisposeAsync();
    }
}
