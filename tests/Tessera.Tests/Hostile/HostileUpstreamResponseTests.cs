using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hostile;

/// <summary>
/// Forged or wrong answers from the upstream IdP. Each is refused on Tessera's error page with the rule that
/// failed, creates no user, session or token, and is audited as a failed sign-in.
/// </summary>
public sealed class HostileUpstreamResponseTests(SharedBroker broker) : IClassFixture<SharedBroker>
{
    private static readonly RsaSecurityKey Attacker = new(RSA.Create(2048)) { KeyId = "attacker" };

    private static string Encode(object value) => Base64UrlEncoder.Encode(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value));

    private static Dictionary<string, object> AttackerJwk()
    {
        var p = Attacker.Rsa.ExportParameters(false);
        return new() { ["kty"] = "RSA", ["kid"] = "attacker", ["n"] = Base64UrlEncoder.Encode(p.Modulus), ["e"] = Base64UrlEncoder.Encode(p.Exponent) };
    }

    private static string SignedBy(FakeUpstreamIdp idp, IdTokenPlan plan, RsaSecurityKey key, Action<Dictionary<string, object>>? header = null)
    {
        var h = new Dictionary<string, object>(plan.Header) { ["kid"] = key.KeyId! };
        header?.Invoke(h);
        return idp.Sign(h, plan.Payload, data => FakeUpstreamIdp.SignRs256(key, data));
    }

    public static TheoryData<string, Action<FakeUpstreamIdp>, string, string> Rows => new()
    {
        // attack, how the upstream misbehaves, expected error, words the page must show
        { "signature does not verify", idp => idp.IdTokenWriter = plan =>
            {
                var good = idp.Sign(plan.Header, plan.Payload, data => FakeUpstreamIdp.SignRs256(plan.Key, data));
                var forged = idp.Sign(plan.Header, plan.Payload, data => FakeUpstreamIdp.SignRs256(plan.Key, [.. data, (byte)'x']));
                return good[..good.LastIndexOf('.')] + forged[forged.LastIndexOf('.')..];
            }, "invalid_id_token", "signature" },
        { "alg none", idp => idp.IdTokenWriter = plan => $"{Encode(new { alg = "none", typ = "JWT" })}.{Encode(plan.Payload)}.", "invalid_id_token", "algorithm is not allowed" },
        { "alg None in another spelling", idp => idp.IdTokenWriter = plan => $"{Encode(new { alg = "nOnE", typ = "JWT" })}.{Encode(plan.Payload)}.", "invalid_id_token", "algorithm is not allowed" },
        { "RS256 signature relabelled RS512, which is off the allow-list", idp => idp.IdTokenWriter = plan => idp.Sign(new(plan.Header) { ["alg"] = "RS512" }, plan.Payload, data => FakeUpstreamIdp.SignRs256(plan.Key, data)), "invalid_id_token", "algorithm is not allowed" },
        { "HS256 keyed with the upstream's public key", idp => idp.IdTokenWriter = plan =>
            {
                var secret = Encoding.ASCII.GetBytes(plan.Key.Rsa.ExportSubjectPublicKeyInfoPem());
                return idp.Sign(new() { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = plan.Key.KeyId! }, plan.Payload, data => HMACSHA256.HashData(secret, data));
            }, "invalid_id_token", "algorithm is not allowed" },
        { "HS256 keyed with the upstream's JWK modulus", idp => idp.IdTokenWriter = plan =>
            {
                var secret = plan.Key.Rsa.ExportParameters(false).Modulus!;
                return idp.Sign(new() { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = plan.Key.KeyId! }, plan.Payload, data => HMACSHA256.HashData(secret, data));
            }, "invalid_id_token", "algorithm is not allowed" },
        { "signed by a key the upstream does not publish", idp => idp.IdTokenWriter = plan => SignedBy(idp, plan, Attacker), "invalid_id_token", "key" },
        { "jku header pointing at the attacker's keys", idp => idp.IdTokenWriter = plan => SignedBy(idp, plan, Attacker, h => h["jku"] = "http://127.0.0.1:9/attacker-jwks"), "invalid_id_token", "key" },
        { "x5u header pointing at the attacker's certificate", idp => idp.IdTokenWriter = plan => SignedBy(idp, plan, Attacker, h => h["x5u"] = "http://127.0.0.1:9/attacker.pem"), "invalid_id_token", "key" },
        { "embedded jwk header with the attacker's key", idp => idp.IdTokenWriter = plan => SignedBy(idp, plan, Attacker, h => h["jwk"] = AttackerJwk()), "invalid_id_token", "key" },
        { "audience of another client", idp => idp.ClaimsEditor = c => c["aud"] = "some-other-client", "invalid_id_token", "another client" },
        { "issuer of another IdP", idp => idp.ClaimsEditor = c => c["iss"] = "https://evil.example", "invalid_id_token", "another issuer" },
        { "expired beyond the allowed skew", idp => idp.ClaimsEditor = c => c["exp"] = DateTimeOffset.UtcNow.AddSeconds(-120).ToUnixTimeSeconds(), "invalid_id_token", "expired" },
        { "not valid until later", idp => idp.ClaimsEditor = c => c["nbf"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds(), "invalid_id_token", "not valid yet" },
        { "no expiry", idp => idp.ClaimsEditor = c => c.Remove("exp"), "invalid_id_token", "expiry" },
        { "nonce of another sign-in", idp => idp.ClaimsEditor = c => c["nonce"] = "some-other-nonce", "nonce_mismatch", "nonce" },
        { "nonce missing", idp => idp.ClaimsEditor = c => c.Remove("nonce"), "nonce_mismatch", "nonce" },
        { "several audiences without azp", idp => idp.ClaimsEditor = c => c["aud"] = new[] { FakeUpstreamIdp.ClientId, "other" }, "invalid_id_token", "azp" },
        { "no subject", idp => idp.ClaimsEditor = c => c.Remove("sub"), "invalid_id_token", "subject" },
        { "malformed token", idp => idp.IdTokenWriter = _ => "not.a.jwt", "invalid_id_token", "refused" },
        { "upstream refuses the sign-in", idp => idp.AuthorizeError = "access_denied", "upstream_error", "access_denied" },
        { "state of another sign-in", idp => idp.StateOverride = "forged-state", "state_mismatch", "does not belong" },
        { "state missing", idp => idp.StateOverride = "", "state_mismatch", "does not belong" },
        { "userinfo about another person", idp => idp.ServeUserInfo = false, "userinfo_failed", "userinfo" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Hostile_upstream_answer_is_refused_without_effect(string attack, Action<FakeUpstreamIdp> misbehave, string error, string words)
    {
        var env = broker.Env;
        var before = await StateSnapshot.TakeAsync(env.Server);
        var auditBefore = (await env.Server.AuditAsync()).Count;
        misbehave(env.Idp);
        try
        {
            using var browser = env.Server.CreateBrowser();
            var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
                new Dictionary<string, string?> { ["connection"] = TestConfiguration.Connection });

            Assert.Null(outcome.Redirect);
            Assert.Equal(HttpStatusCode.BadRequest, outcome.Response.StatusCode);
            var html = WebUtility.HtmlDecode(await outcome.Response.Content.ReadAsStringAsync());
            Assert.True(html.Contains($"<strong>{error}</strong>", StringComparison.Ordinal), $"{attack}: {html}");
            Assert.Contains(words, html, StringComparison.OrdinalIgnoreCase);
            Assert.Null(browser.Cookie("tessera.session"));

            var after = await StateSnapshot.TakeAsync(env.Server);
            Assert.Equal(before with { PendingLogins = 0 }, after with { PendingLogins = 0 });
            Assert.True(after.PendingLogins <= before.PendingLogins + (error == "state_mismatch" ? 1 : 0), "the pending sign-in is consumed");
            var audit = (await env.Server.AuditAsync()).Skip(auditBefore).ToList();
            Assert.Contains(audit, a => a.Event == "signin.failed" && a.ConnectionId == TestConfiguration.Connection && a.Reason!.StartsWith(error, StringComparison.Ordinal));
            Assert.DoesNotContain(audit, a => a.Event == "signin.succeeded");
        }
        finally
        {
            env.Idp.IdTokenWriter = null;
            env.Idp.ClaimsEditor = null;
            env.Idp.AuthorizeError = null;
            env.Idp.StateOverride = null;
            env.Idp.ServeUserInfo = true;
        }
    }

    [Fact]
    public async Task A_callback_replayed_after_success_is_refused()
    {
        var env = broker.Env;
        using var browser = env.Server.CreateBrowser();
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["connection"] = TestConfiguration.Connection });
        Assert.NotNull(outcome.Code);
        var callback = browser.History.Single(u => u.AbsolutePath == "/oidc/stmarys-oidc/callback");
        var before = await StateSnapshot.TakeAsync(env.Server);

        var replay = await browser.GetAsync(callback.AbsoluteUri);

        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("state_mismatch", await replay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await StateSnapshot.TakeAsync(env.Server));
    }

    [Fact]
    public async Task A_callback_completed_in_another_browser_is_refused()
    {
        var env = broker.Env;
        using var victim = env.Server.CreateBrowser();
        using var attacker = env.Server.CreateBrowser();
        var (_, challenge) = Oauth.Pkce();
        var start = await attacker.NavigateAsync(Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", "s", "n", challenge,
            new Dictionary<string, string?> { ["connection"] = TestConfiguration.Connection }), uri => uri.AbsolutePath.EndsWith("/callback", StringComparison.Ordinal));
        var before = await StateSnapshot.TakeAsync(env.Server);

        // Login CSRF: the attacker's upstream answer is delivered to the victim's browser.
        var response = await victim.GetAsync(start.StoppedAt!.AbsoluteUri);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("browser_mismatch", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(victim.Cookie("tessera.session"));
        var after = await StateSnapshot.TakeAsync(env.Server);
        Assert.Equal(before.Sessions, after.Sessions);
        Assert.Equal(before.Users, after.Users);
    }
}
