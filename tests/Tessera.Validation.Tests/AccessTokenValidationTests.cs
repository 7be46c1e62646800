using System.Text.Json.Nodes;
using Tessera.Validation.Tests.Infrastructure;

namespace Tessera.Validation.Tests;

/// <summary>Local validation of first-seen access tokens: the good one, and one row per attack with the rule that stops it.</summary>
public sealed class AccessTokenValidationTests
{
    public sealed record HostileToken(string Failure, Func<TestApi, string> Make);

    public static readonly Dictionary<string, HostileToken> Cases = new()
    {
        ["issued_by_another_issuer"] = new(TokenFailures.Issuer, api => api.Token(With(api.Claims(), "iss", "https://evil.example"))),
        ["issuer_spelled_otherwise_than_discovery"] = new(TokenFailures.Issuer, api => api.Token(With(api.Claims(), "iss", FakeTessera.Issuer))),
        ["issuer_differing_only_in_path"] = new(TokenFailures.Issuer, api => api.Token(With(api.Claims(), "iss", FakeTessera.Issuer + "/tenant"))),
        ["meant_for_another_api"] = new(TokenFailures.Audience, api => api.Token(With(api.Claims(), "aud", "https://billing.internal"))),
        ["without_audience"] = new(TokenFailures.Audience, api => api.Token(Without(api.Claims(), "aud"))),
        ["typ_jwt_instead_of_at_jwt"] = new(TokenFailures.Type, api => TestJwt.Sign(new JsonObject { ["typ"] = "JWT" }, api.Claims(), api.Key)),
        ["id_token_without_typ"] = new(TokenFailures.Type, api => TestJwt.Sign([], api.Claims(), api.Key)),
        ["set_presented_as_access_token"] = new(TokenFailures.Type, api => TestJwt.Sign(new JsonObject { ["typ"] = "secevent+jwt" }, api.Claims(), api.Key)),
        ["expired_beyond_the_skew"] = new(TokenFailures.Expired, api => api.Token(Shifted(api, TimeSpan.FromMinutes(-61)))),
        ["without_expiry"] = new(TokenFailures.Expired, api => api.Token(Without(api.Claims(), "exp"))),
        ["not_yet_valid_beyond_the_skew"] = new(TokenFailures.NotYetValid, api => api.Token(With(api.Claims(), "nbf", api.Time.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds()))),
        ["alg_none"] = new(TokenFailures.Unsigned, api => TestJwt.Unsigned(TestApi.AccessTokenHeader(), api.Claims())),
        ["hs256_keyed_with_the_public_key"] = new(TokenFailures.Algorithm, api => TestJwt.Hs256(With(TestApi.AccessTokenHeader(), "kid", api.Key.Kid), api.Claims(), api.Key.PublicKeyBytes())),
        ["rs512_not_on_the_allow_list"] = new(TokenFailures.Algorithm, api => TestJwt.Sign(With(TestApi.AccessTokenHeader(), "alg", "RS512"), api.Claims(), api.Key)),
        ["signed_by_a_key_tessera_does_not_publish"] = new(TokenFailures.UnknownKey, api => api.Token(key: TestKey.Es256("attacker-key"))),
        ["attacker_key_embedded_as_jwk_header"] = new(TokenFailures.UnknownKey, api =>
        {
            using var attacker = TestKey.Es256("attacker-jwk");
            var header = With(TestApi.AccessTokenHeader(), "jwk", attacker.PublicJwk());
            return TestJwt.Sign(header, api.Claims(), attacker);
        }),
        ["signed_by_another_key_under_tessera_kid"] = new(TokenFailures.Signature, api =>
        {
            using var attacker = TestKey.Es256(api.Key.Kid);
            return api.Token(key: attacker);
        }),
        ["claims_changed_after_signing"] = new(TokenFailures.Signature, api =>
        {
            var parts = api.Token().Split('.');
            return parts[0] + "." + TestJwt.Encode(With(api.Claims(), "scope", "read:orders write:orders admin")) + "." + parts[2];
        }),
        ["critical_header_extension"] = new(TokenFailures.Malformed, api => TestJwt.Sign(With(TestApi.AccessTokenHeader(), "crit", new JsonArray("exp")), api.Claims(), api.Key)),
        ["not_a_jwt"] = new(TokenFailures.Malformed, _ => "not-a-jwt"),
        ["oversized"] = new(TokenFailures.Malformed, api => api.Token(With(api.Claims(), "padding", new string('a', 20_000)))),
        ["without_subject"] = new(TokenFailures.Claims, api => api.Token(Without(api.Claims(), "sub"))),
        ["without_iat"] = new(TokenFailures.Claims, api => api.Token(Without(api.Claims(), "iat"))),
    };

    public static TheoryData<string> Attacks => [.. Cases.Keys];

    [Fact]
    public async Task Valid_token_is_accepted_locally_then_from_the_cache()
    {
        await using var api = await TestApi.StartAsync();
        var token = api.Token();

        var first = await api.Validator.ValidateAsync(token);
        var second = await api.Validator.ValidateAsync(token);

        Assert.True(first.IsValid, first.Description);
        Assert.Equal(ValidationSource.Local, first.Source);
        Assert.Equal(ValidationSource.Cache, second.Source);
        Assert.Equal("3f0c9a52-7d1e-4b8a-9c61-2b7e5d4f8a10", second.Principal!.FindFirst("sub")!.Value);
        Assert.Equal(["openid", "read:orders"], second.Principal.FindAll("scope").Select(c => c.Value));
        var metrics = api.Metrics.Snapshot();
        Assert.Equal((1, 1, 1), (metrics.ValidLocal, metrics.ValidFromCache, metrics.CacheHits));
    }

    [Fact]
    public async Task Rs256_token_is_accepted()
    {
        await using var api = await TestApi.StartAsync(key: TestKey.Rs256("tessera-rs256-1"));

        var result = await api.Validator.ValidateAsync(api.Token());

        Assert.True(result.IsValid, result.Description);
    }

    [Fact]
    public async Task Token_expired_within_the_skew_is_still_accepted()
    {
        await using var api = await TestApi.StartAsync();

        var result = await api.Validator.ValidateAsync(api.Token(Shifted(api, TimeSpan.FromSeconds(-3620))));

        Assert.True(result.IsValid, result.Description);
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Hostile_access_token_is_refused_by_its_rule(string attack)
    {
        await using var api = await TestApi.StartAsync();
        var token = Cases[attack].Make(api);

        var result = await api.Validator.ValidateAsync(token);
        var again = await api.Validator.ValidateAsync(token);

        Assert.False(result.IsValid);
        Assert.Equal(Cases[attack].Failure, result.Failure);
        Assert.Equal(ValidationSource.Local, again.Source);
        Assert.Equal(0, api.Metrics.Snapshot().CachedTokens);
    }

    [Fact]
    public async Task Rotated_key_costs_one_key_set_fetch_then_its_tokens_are_accepted()
    {
        await using var api = await TestApi.StartAsync();
        Assert.True((await api.Validator.ValidateAsync(api.Token())).IsValid);
        Assert.Equal(1, api.Tessera.JwksFetches);

        using var next = TestKey.Es256("tessera-es256-2");
        api.Tessera.Published = [api.Key, next];
        api.Tessera.JwksDelay = TimeSpan.FromMilliseconds(100);
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => api.Validator.ValidateAsync(api.Token(api.Claims(sub: $"user-{i}"), next)).AsTask())));

        Assert.All(results, r => Assert.True(r.IsValid, r.Description));
        Assert.Equal(2, api.Tessera.JwksFetches);
        Assert.Equal(1, api.Metrics.Snapshot().KeyRefreshes);
    }

    [Fact]
    public async Task Burst_of_unknown_key_ids_fetches_the_key_set_at_most_once_per_interval()
    {
        await using var api = await TestApi.StartAsync();
        Assert.True((await api.Validator.ValidateAsync(api.Token())).IsValid);
        api.Tessera.JwksDelay = TimeSpan.FromMilliseconds(100);

        var attackers = Enumerable.Range(0, 50).Select(i => TestKey.Es256($"forged-{i}")).ToList();
        var results = await Task.WhenAll(attackers.Select(k => Task.Run(() => api.Validator.ValidateAsync(api.Token(key: k)).AsTask())));
        var secondBurst = await Task.WhenAll(attackers.Select(k => Task.Run(() => api.Validator.ValidateAsync(api.Token(key: k)).AsTask())));

        Assert.All(results.Concat(secondBurst), r => Assert.Equal(TokenFailures.UnknownKey, r.Failure));
        Assert.Equal(2, api.Tessera.JwksFetches);

        // A key rotated in during the interval waits for its end; then it costs one fetch.
        using var next = TestKey.Es256("tessera-es256-2");
        api.Tessera.Published = [api.Key, next];
        Assert.Equal(TokenFailures.UnknownKey, (await api.Validator.ValidateAsync(api.Token(key: next))).Failure);
        api.Time.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(TimeSpan.FromSeconds(1.1)); // IdentityModel's own wall-clock floor between refreshes (1 s)
        Assert.True((await api.Validator.ValidateAsync(api.Token(key: next))).IsValid);
        Assert.Equal(3, api.Tessera.JwksFetches);
        attackers.ForEach(k => k.Dispose());
    }

    private static JsonObject With(JsonObject json, string name, JsonNode? value)
    {
        json[name] = value;
        return json;
    }

    private static JsonObject Without(JsonObject json, string name)
    {
        json.Remove(name);
        return json;
    }

    /// <summary>Claims of a token issued <paramref name="by"/> from now (negative: in the past), one hour long.</summary>
    private static JsonObject Shifted(TestApi api, TimeSpan by)
    {
        var claims = api.Claims();
        var issued = api.Time.GetUtcNow().Add(by).ToUnixTimeSeconds();
        claims["iat"] = issued;
        claims["nbf"] = issued;
        claims["exp"] = issued + 3600;
        return claims;
    }
}
