using System.Net;
using Tessera.Validation.Tests.Infrastructure;

namespace Tessera.Validation.Tests;

/// <summary>Valid Security Event Tokens pushed to the receiver, and what each does to the cache and to tokens seen later.</summary>
public sealed class SecurityEventTests
{
    private const string Ana = "3f0c9a52-7d1e-4b8a-9c61-2b7e5d4f8a10";
    private const string Ben = "8a1d2c3b-4e5f-4a6b-9c7d-0e1f2a3b4c5d";

    [Fact]
    public async Task Session_revoked_drops_exactly_that_sessions_cached_tokens()
    {
        await using var api = await TestApi.StartAsync();
        var revokedSession = api.Token(api.Claims(sub: Ana, sid: "sid-laptop"));
        var otherSession = api.Token(api.Claims(sub: Ana, sid: "sid-phone"));
        Assert.True((await api.Validator.ValidateAsync(revokedSession)).IsValid);
        Assert.True((await api.Validator.ValidateAsync(otherSession)).IsValid);

        var response = await api.PushAsync(TestEvents.Sign(TestEvents.SessionRevokedClaims(api.Time.GetUtcNow(), Ana, "sid-laptop"), api.Key));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        var revoked = await api.Validator.ValidateAsync(revokedSession);
        Assert.Equal((TokenFailures.Revoked, ValidationSource.Local), (revoked.Failure, revoked.Source));
        Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(otherSession)).Source);
        var metrics = api.Metrics.Snapshot();
        Assert.Equal((1, 1, 0), (metrics.SessionsRevoked, metrics.SignalsAccepted, metrics.SignalsRefused));
    }

    [Fact]
    public async Task Token_of_a_revoked_session_first_seen_after_the_event_is_refused()
    {
        await using var api = await TestApi.StartAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await api.PushAsync(TestEvents.Sign(TestEvents.SessionRevokedClaims(api.Time.GetUtcNow(), Ana, "sid-laptop"), api.Key))).StatusCode);

        var result = await api.Validator.ValidateAsync(api.Token(api.Claims(sub: Ana, sid: "sid-laptop")));

        Assert.Equal(TokenFailures.Revoked, result.Failure);
        Assert.True((await api.Validator.ValidateAsync(api.Token(api.Claims(sub: Ana, sid: "sid-new")))).IsValid);
    }

    [Fact]
    public async Task Revoked_session_is_forgotten_after_the_retention()
    {
        await using var api = await TestApi.StartAsync(o => o.RevocationRetention = TimeSpan.FromHours(2));
        Assert.Equal(HttpStatusCode.Accepted, (await api.PushAsync(TestEvents.Sign(TestEvents.SessionRevokedClaims(api.Time.GetUtcNow(), Ana, "sid-laptop"), api.Key))).StatusCode);
        api.Time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1));
        Assert.Equal(TokenFailures.Revoked, (await api.Validator.ValidateAsync(api.Token(api.Claims(sub: Ana, sid: "sid-laptop")))).Failure);

        api.Time.Advance(TimeSpan.FromMinutes(2));

        Assert.True((await api.Validator.ValidateAsync(api.Token(api.Claims(sub: Ana, sid: "sid-laptop")))).IsValid);
    }

    [Fact]
    public async Task Account_disabled_drops_the_users_tokens_issued_up_to_the_event_and_no_later_ones()
    {
        await using var api = await TestApi.StartAsync();
        var before = api.Token(api.Claims(sub: Ana, sid: "sid-1"));
        var benToken = api.Token(api.Claims(sub: Ben, sid: "sid-2"));
        var disabledAt = api.Time.GetUtcNow().ToUnixTimeSeconds() + 5;
        api.Time.Advance(TimeSpan.FromSeconds(10));
        var after = api.Token(api.Claims(sub: Ana, sid: "sid-3"));
        foreach (var token in new[] { before, benToken, after })
        {
            Assert.True((await api.Validator.ValidateAsync(token)).IsValid);
        }

        var response = await api.PushAsync(TestEvents.Sign(TestEvents.AccountDisabledClaims(api.Time.GetUtcNow(), Ana, toe: disabledAt), api.Key));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(TokenFailures.Revoked, (await api.Validator.ValidateAsync(before)).Failure);
        Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(after)).Source);
        Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(benToken)).Source);
        Assert.Equal(1, api.Metrics.Snapshot().AccountsDisabled);

        // First seen later: a token issued up to the event is refused, one issued after it is not.
        var lateOld = api.Claims(sub: Ana, sid: "sid-4");
        lateOld["iat"] = disabledAt;
        Assert.Equal(TokenFailures.Revoked, (await api.Validator.ValidateAsync(api.Token(lateOld))).Failure);
        Assert.True((await api.Validator.ValidateAsync(api.Token(api.Claims(sub: Ana, sid: "sid-5")))).IsValid);
    }

    [Fact]
    public async Task Account_enabled_is_acknowledged_and_counted_and_tokens_from_before_the_disable_stay_refused()
    {
        await using var api = await TestApi.StartAsync();
        var before = api.Claims(sub: Ana);
        var disabledAt = api.Time.GetUtcNow().ToUnixTimeSeconds();
        await api.PushAsync(TestEvents.Sign(TestEvents.AccountDisabledClaims(api.Time.GetUtcNow(), Ana, toe: disabledAt), api.Key));
        api.Time.Advance(TimeSpan.FromMinutes(1));

        var response = await api.PushAsync(TestEvents.Sign(TestEvents.AccountEnabledClaims(api.Time.GetUtcNow(), Ana), api.Key));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(TokenFailures.Revoked, (await api.Validator.ValidateAsync(api.Token(before))).Failure);
        Assert.True((await api.Validator.ValidateAsync(api.Token(api.Claims(sub: Ana)))).IsValid);
        var metrics = api.Metrics.Snapshot();
        Assert.Equal((1, 1, 2), (metrics.AccountsDisabled, metrics.AccountsEnabled, metrics.Revocations));
    }

    [Fact]
    public async Task Set_signed_with_a_rotated_key_refreshes_the_shared_key_set_once()
    {
        await using var api = await TestApi.StartAsync();
        Assert.True((await api.Validator.ValidateAsync(api.Token())).IsValid);
        using var next = TestKey.Rs256("tessera-rs256-2");
        api.Tessera.Published = [api.Key, next];

        var response = await api.PushAsync(TestEvents.Sign(TestEvents.SessionRevokedClaims(api.Time.GetUtcNow(), Ana, "sid-1"), next));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(2, api.Tessera.JwksFetches);
        Assert.True((await api.Validator.ValidateAsync(api.Token(api.Claims(sid: "sid-9"), next))).IsValid);
        Assert.Equal(2, api.Tessera.JwksFetches);
    }

    [Fact]
    public async Task Token_validated_while_its_session_is_revoked_is_refused_and_not_cached()
    {
        await using var api = await TestApi.StartAsync();
        Assert.True((await api.Validator.ValidateAsync(api.Token(api.Claims(sid: "sid-warm")))).IsValid);
        var token = api.Token(api.Claims(sub: Ana, sid: "sid-racing"));

        // The first-seen validation is held at the key lookup while the revocation is applied.
        using var next = TestKey.Es256("tessera-es256-2");
        api.Tessera.Published = [api.Key, next];
        api.Tessera.JwksDelay = TimeSpan.FromMilliseconds(300);
        var racing = api.Validator.ValidateAsync(api.Token(api.Claims(sub: Ana, sid: "sid-racing"), next)).AsTask();
        await Task.Delay(50);
        Assert.Equal(HttpStatusCode.Accepted, (await api.PushAsync(TestEvents.Sign(TestEvents.SessionRevokedClaims(api.Time.GetUtcNow(), Ana, "sid-racing"), api.Key))).StatusCode);
        var result = await racing;

        // The SET waits for the same key-set fetch the racing validation started (signing keys refresh as one blocking
        // fetch), so the two finish in either order: the validation may answer before the revocation lands, which is
        // correct, but its answer must not survive in the cache, and nothing after the 202 may accept the token.
        Assert.True(result.Failure is null or TokenFailures.Revoked, $"unexpected failure {result.Failure}");
        Assert.Equal(TokenFailures.Revoked, (await api.Validator.ValidateAsync(token)).Failure);
        Assert.Equal(TokenFailures.Revoked, (await api.Validator.ValidateAsync(api.Token(api.Claims(sub: Ana, sid: "sid-racing"), next))).Failure);
        Assert.Equal(1, api.Metrics.Snapshot().CachedTokens);
    }
}
