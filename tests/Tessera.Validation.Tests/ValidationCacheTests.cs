using System.Net;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Tessera.Validation.Tests.Infrastructure;

namespace Tessera.Validation.Tests;

/// <summary>The validation cache and the recheck policy: what a cached answer costs, when Tessera is asked, and what its answers do.</summary>
public sealed class ValidationCacheTests
{
    [Fact]
    public async Task Cache_hits_do_not_look_at_keys_or_signatures_again()
    {
        var key = TestKey.Es256("static-1");
        var configuration = new OpenIdConnectConfiguration { Issuer = FakeTessera.IssuerName };
        configuration.SigningKeys.Add(new JsonWebKey(key.PublicJwk().ToJsonString()));
        var counting = new CountingConfigurationManager(configuration);
        await using var api = await TestApi.StartAsync(o => o.ConfigurationManager = counting, key);
        var token = api.Token();

        Assert.Equal(ValidationSource.Local, (await api.Validator.ValidateAsync(token)).Source);
        var lookups = counting.Lookups;
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(token)).Source);
        }

        Assert.Equal(lookups, counting.Lookups);
        Assert.Equal(100, api.Metrics.Snapshot().CacheHits);
        Assert.Equal(0, api.Tessera.DiscoveryFetches);
    }

    [Fact]
    public async Task After_the_recheck_time_concurrent_requests_share_one_introspection()
    {
        await using var api = await TestApi.StartAsync();
        var token = api.Token();
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);
        Assert.Equal(0, api.Tessera.Introspections);

        api.Time.Advance(TimeSpan.FromMinutes(5));
        api.Tessera.IntrospectionGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = Enumerable.Range(0, 20).Select(_ => Task.Run(() => api.Validator.ValidateAsync(token).AsTask())).ToList();
        await WaitUntil(() => api.Tessera.Introspections == 1);
        await Task.Delay(100);
        api.Tessera.IntrospectionGate.SetResult();
        var results = await Task.WhenAll(pending);

        Assert.All(results, r => Assert.True(r.IsValid, r.Description));
        Assert.Equal(1, api.Tessera.Introspections);
        Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(token)).Source);
        api.Time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(token)).Source);
        Assert.Equal(1, api.Tessera.Introspections);
        Assert.Equal(1, api.Metrics.Snapshot().IntrospectionsActive);
    }

    [Fact]
    public async Task Inactive_answer_refuses_the_token_and_is_remembered()
    {
        await using var api = await TestApi.StartAsync();
        var token = api.Token();
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);

        api.Tessera.Deactivate(token);
        api.Time.Advance(TimeSpan.FromMinutes(6));
        var result = await api.Validator.ValidateAsync(token);
        var again = await api.Validator.ValidateAsync(token);

        Assert.Equal((TokenFailures.Inactive, ValidationSource.Introspection), (result.Failure, result.Source));
        Assert.Equal((TokenFailures.Inactive, ValidationSource.Cache), (again.Failure, again.Source));
        Assert.Equal(1, api.Tessera.Introspections);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetOrdersAsync(token)).StatusCode);
    }

    [Fact]
    public async Task Recheck_time_never_extends_trust_past_the_tokens_expiry()
    {
        await using var api = await TestApi.StartAsync(o => o.RecheckAfter = TimeSpan.FromHours(1));
        var token = api.Token(api.Claims(lifetime: TimeSpan.FromMinutes(10)));
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);

        api.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(29));
        Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(token)).Source);
        api.Time.Advance(TimeSpan.FromSeconds(1));
        var result = await api.Validator.ValidateAsync(token);

        Assert.Equal(TokenFailures.Expired, result.Failure);
        Assert.Equal(0, api.Tessera.Introspections);
        Assert.Equal(TokenFailures.Expired, (await api.Validator.ValidateAsync(token)).Failure);
    }

    [Fact]
    public async Task Recheck_after_zero_asks_Tessera_on_every_request()
    {
        await using var api = await TestApi.StartAsync(o => o.RecheckAfter = TimeSpan.Zero);
        var token = api.Token();

        for (var i = 0; i < 3; i++)
        {
            var result = await api.Validator.ValidateAsync(token);
            Assert.Equal(ValidationSource.Introspection, result.Source);
        }

        Assert.Equal(3, api.Tessera.Introspections);
        api.Tessera.Deactivate(token);
        Assert.Equal(TokenFailures.Inactive, (await api.Validator.ValidateAsync(token)).Failure);
    }

    [Fact]
    public async Task Recheck_never_trusts_until_expiry_without_client_credentials()
    {
        await using var api = await TestApi.StartAsync(o =>
        {
            o.RecheckAfter = Timeout.InfiniteTimeSpan;
            o.ClientId = null;
            o.ClientSecret = null;
        });
        var token = api.Token();
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);

        api.Time.Advance(TimeSpan.FromMinutes(59));

        Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(token)).Source);
        Assert.Equal(0, api.Tessera.Introspections);
    }

    [Fact]
    public async Task Unreachable_Tessera_at_recheck_time_fails_closed_by_default()
    {
        await using var api = await TestApi.StartAsync();
        var token = api.Token();
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);

        api.Tessera.IntrospectionUnreachable = true;
        api.Time.Advance(TimeSpan.FromMinutes(5));
        var result = await api.Validator.ValidateAsync(token);

        Assert.Equal(TokenFailures.RecheckUnavailable, result.Failure);
        Assert.Equal(1, api.Metrics.Snapshot().IntrospectionsFailed);

        // Once Tessera answers again, the same token is good again.
        api.Tessera.IntrospectionUnreachable = false;
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);
    }

    [Fact]
    public async Task Unreachable_Tessera_within_the_grace_keeps_trusting_then_fails_closed()
    {
        await using var api = await TestApi.StartAsync(o => o.UnreachableGrace = TimeSpan.FromMinutes(2));
        var token = api.Token();
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);

        api.Tessera.IntrospectionUnreachable = true;
        api.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);
        Assert.Equal(1, api.Tessera.Introspections);

        api.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await api.Validator.ValidateAsync(token)).IsValid);
        api.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(TokenFailures.RecheckUnavailable, (await api.Validator.ValidateAsync(token)).Failure);
    }

    [Fact]
    public async Task Full_cache_evicts_expired_entries_first()
    {
        await using var api = await TestApi.StartAsync(o => o.MaxCachedTokens = 10);
        var shortLived = Enumerable.Range(0, 5).Select(i => api.Token(api.Claims(sub: $"short-{i}", lifetime: TimeSpan.FromMinutes(1)))).ToList();
        foreach (var token in shortLived)
        {
            Assert.True((await api.Validator.ValidateAsync(token)).IsValid);
        }

        api.Time.Advance(TimeSpan.FromMinutes(2));
        var longLived = Enumerable.Range(0, 6).Select(i => api.Token(api.Claims(sub: $"long-{i}"))).ToList();
        foreach (var token in longLived)
        {
            Assert.True((await api.Validator.ValidateAsync(token)).IsValid);
        }

        Assert.Equal(6, api.Metrics.Snapshot().CachedTokens);
        foreach (var token in longLived)
        {
            Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(token)).Source);
        }
    }

    [Fact]
    public async Task Cache_never_holds_more_than_its_bound()
    {
        await using var api = await TestApi.StartAsync(o => o.MaxCachedTokens = 20);

        for (var i = 0; i < 100; i++)
        {
            Assert.True((await api.Validator.ValidateAsync(api.Token(api.Claims(sub: $"user-{i}")))).IsValid);
        }

        Assert.InRange(api.Metrics.Snapshot().CachedTokens, 1, 20);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    /// <summary>A fixed configuration that counts how often validation asks for it.</summary>
    private sealed class CountingConfigurationManager(OpenIdConnectConfiguration configuration) : IConfigurationManager<OpenIdConnectConfiguration>
    {
        private int _lookups;

        public int Lookups => Volatile.Read(ref _lookups);

        public Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
        {
            Interlocked.Increment(ref _lookups);
            return Task.FromResult(configuration);
        }

        public void RequestRefresh()
        {
        }
    }
}
