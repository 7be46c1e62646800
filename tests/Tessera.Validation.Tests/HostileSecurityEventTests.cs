using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Validation.Tests.Infrastructure;

namespace Tessera.Validation.Tests;

/// <summary>
/// Hostile pushes to the SET receiver, one row per attack, each with the exact status and RFC 8935 err it must get.
/// Every row also proves nothing was applied: the targeted user's cached token still answers from the cache, a new
/// token of the targeted session is still accepted, and no revocation was counted.
/// </summary>
public sealed class HostileSecurityEventTests
{
    private const string Sub = "3f0c9a52-7d1e-4b8a-9c61-2b7e5d4f8a10";
    private const string Sid = "sid-target";

    public sealed record HostilePush(HttpStatusCode Status, string Err, Func<TestApi, string> Body)
    {
        public string? ContentType { get; init; } = "application/secevent+jwt";
        public string? Authorization { get; init; } = TestApi.SignalsAuthorization;

        /// <summary>The body is pushed once, successfully, before the hostile push (a replay).</summary>
        public bool PushedBefore { get; init; }
    }

    private static readonly HttpStatusCode BadRequest = HttpStatusCode.BadRequest;

    public static readonly Dictionary<string, HostilePush> Cases = new()
    {
        ["unsigned_alg_none"] = new(BadRequest, "invalid_request", api => TestJwt.Unsigned(TestEvents.Header(), Revoke(api))),
        ["hs256_keyed_with_tessera_public_key"] = new(BadRequest, "invalid_request", api => TestJwt.Hs256(With(TestEvents.Header(), "kid", api.Key.Kid), Revoke(api), api.Key.PublicKeyBytes())),
        ["signed_by_a_key_tessera_does_not_publish"] = new(BadRequest, "invalid_key", api =>
        {
            using var attacker = TestKey.Es256("attacker");
            return TestEvents.Sign(Revoke(api), attacker);
        }),
        ["signed_by_another_key_under_tessera_kid"] = new(BadRequest, "invalid_key", api =>
        {
            using var attacker = TestKey.Es256(api.Key.Kid);
            return TestEvents.Sign(Revoke(api), attacker);
        }),
        ["payload_changed_after_signing"] = new(BadRequest, "invalid_key", api =>
        {
            var parts = TestEvents.Sign(TestEvents.AccountEnabledClaims(api.Time.GetUtcNow(), Sub), api.Key).Split('.');
            return parts[0] + "." + TestJwt.Encode(Revoke(api)) + "." + parts[2];
        }),
        ["another_issuer"] = new(BadRequest, "invalid_issuer", api => TestEvents.Sign(With(Revoke(api), "iss", "https://evil.example"), api.Key)),
        ["issuer_spelled_otherwise_than_discovery"] = new(BadRequest, "invalid_issuer", api => TestEvents.Sign(With(Revoke(api), "iss", FakeTessera.Issuer), api.Key)),
        ["another_audience"] = new(BadRequest, "invalid_audience", api => TestEvents.Sign(With(Revoke(api), "aud", "https://billing.internal"), api.Key)),
        ["no_audience"] = new(BadRequest, "invalid_audience", api => TestEvents.Sign(Without(Revoke(api), "aud"), api.Key)),
        ["replayed_jti"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(TestEvents.AccountEnabledClaims(api.Time.GetUtcNow(), Sub), api.Key)) { PushedBefore = true },
        ["malformed_json_payload"] = new(BadRequest, "invalid_request", api =>
        {
            var header = TestJwt.Encode(With(TestEvents.Header(), "alg", "ES256"));
            var payload = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("{\"iss\": \"https://tessera.test/\", \"events\": {");
            return header + "." + payload + "." + TestEvents.Sign(Revoke(api), api.Key).Split('.')[2];
        }),
        ["not_a_jwt"] = new(BadRequest, "invalid_request", _ => "this is not a security event token"),
        ["empty_body"] = new(BadRequest, "invalid_request", _ => ""),
        ["typ_jwt_instead_of_secevent_jwt"] = new(BadRequest, "invalid_request", api => TestJwt.Sign(new JsonObject { ["typ"] = "JWT" }, Revoke(api), api.Key)),
        ["access_token_pushed_as_set"] = new(BadRequest, "invalid_request", api => TestJwt.Sign(TestApi.AccessTokenHeader(), Revoke(api), api.Key)),
        ["no_events_claim"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(Without(Revoke(api), "events"), api.Key)),
        ["empty_events"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(With(Revoke(api), "events", new JsonObject()), api.Key)),
        ["unknown_event_type"] = new(BadRequest, "invalid_request", api =>
            TestEvents.Sign(TestEvents.Claims(api.Time.GetUtcNow(), Sub, Sid, "https://schemas.openid.net/secevent/caep/event-type/credential-change", []), api.Key)),
        ["two_events_in_one_set"] = new(BadRequest, "invalid_request", api =>
        {
            var claims = Revoke(api);
            claims["events"]![TestEvents.AccountDisabled] = new JsonObject();
            return TestEvents.Sign(claims, api.Key);
        }),
        ["session_revoked_without_session"] = new(BadRequest, "invalid_request", api =>
            TestEvents.Sign(TestEvents.Claims(api.Time.GetUtcNow(), Sub, null, TestEvents.SessionRevoked, []), api.Key)),
        ["account_disabled_without_user"] = new(BadRequest, "invalid_request", api =>
        {
            var claims = TestEvents.AccountDisabledClaims(api.Time.GetUtcNow(), Sub, toe: api.Time.GetUtcNow().ToUnixTimeSeconds());
            claims["sub_id"]!.AsObject().Remove("user");
            return TestEvents.Sign(claims, api.Key);
        }),
        ["user_of_another_issuer"] = new(BadRequest, "invalid_request", api =>
        {
            var claims = Revoke(api);
            claims["sub_id"]!["user"]!["iss"] = "https://evil.example";
            return TestEvents.Sign(claims, api.Key);
        }),
        ["sub_id_a_plain_string"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(With(Revoke(api), "sub_id", Sub), api.Key)),
        ["no_iat"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(Without(Revoke(api), "iat"), api.Key)),
        ["iat_in_the_future"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(With(Revoke(api), "iat", api.Time.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds()), api.Key)),
        ["no_jti"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(Without(Revoke(api), "jti"), api.Key)),
        ["missing_authorization"] = new(HttpStatusCode.Unauthorized, "authentication_failed", api => TestEvents.Sign(Revoke(api), api.Key)) { Authorization = null },
        ["wrong_authorization"] = new(HttpStatusCode.Unauthorized, "authentication_failed", api => TestEvents.Sign(Revoke(api), api.Key)) { Authorization = "Bearer guessed" },
        ["authorization_prefix_only"] = new(HttpStatusCode.Unauthorized, "authentication_failed", api => TestEvents.Sign(Revoke(api), api.Key)) { Authorization = "Bearer signals" },
        ["wrong_content_type"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(Revoke(api), api.Key)) { ContentType = "application/json" },
        ["no_content_type"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(Revoke(api), api.Key)) { ContentType = null },
        ["oversized_body"] = new(BadRequest, "invalid_request", api => TestEvents.Sign(With(Revoke(api), "padding", new string('x', 70 * 1024)), api.Key)),
    };

    public static TheoryData<string> Attacks => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Hostile_push_is_refused_with_its_error_and_applies_nothing(string attack)
    {
        var push = Cases[attack];
        await using var api = await TestApi.StartAsync();
        var cached = api.Token(api.Claims(sub: Sub, sid: Sid));
        Assert.True((await api.Validator.ValidateAsync(cached)).IsValid);
        var body = push.Body(api);
        if (push.PushedBefore)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await api.PushAsync(body)).StatusCode);
        }

        var before = api.Metrics.Snapshot();

        var response = await api.PushAsync(body, push.ContentType, push.Authorization);

        Assert.Equal(push.Status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(push.Err, error.RootElement.GetProperty("err").GetString());
        Assert.False(string.IsNullOrEmpty(error.RootElement.GetProperty("description").GetString()));

        Assert.Equal(ValidationSource.Cache, (await api.Validator.ValidateAsync(cached)).Source);
        Assert.True((await api.Validator.ValidateAsync(api.Token(api.Claims(sub: Sub, sid: Sid)))).IsValid);
        var after = api.Metrics.Snapshot();
        Assert.Equal(before.Revocations, after.Revocations);
        Assert.Equal(before.SignalsRefused + 1, after.SignalsRefused);
    }

    /// <summary>A session revocation of the target, valid but for what the row changes.</summary>
    private static JsonObject Revoke(TestApi api) => TestEvents.SessionRevokedClaims(api.Time.GetUtcNow(), Sub, Sid);

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
}
