using System.Net;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Signals;

/// <summary>OpenID Connect Back-Channel Logout 1.0: every app of an ended session hears of it, with a logout token it can verify.</summary>
public sealed class BackchannelLogoutTests
{
    private static async Task<JsonWebToken> AssertLogoutTokenAsync(SignalArrangement x, SignalReceiver.Received received, string clientId, string algorithm, string userId, string sessionId)
    {
        Assert.StartsWith("application/x-www-form-urlencoded", received.ContentType, StringComparison.Ordinal);
        var token = await SignalReceiver.VerifyAsync(x.Server, received, clientId, "logout+jwt");
        Assert.NotNull(token);
        Assert.Equal(algorithm, token.Alg);
        Assert.Equal(userId, token.Subject);
        Assert.Equal(sessionId, token.GetClaim("sid").Value);
        Assert.False(token.TryGetPayloadValue<string>("nonce", out _)); // §2.4: a logout token never carries a nonce
        Assert.NotEqual(default, token.ValidTo);
        Assert.False(string.IsNullOrEmpty(token.Id));
        using var events = JsonDocument.Parse(token.GetClaim("events").Value);
        Assert.True(events.RootElement.TryGetProperty("http://schemas.openid.net/event/backchannel-logout", out var logout));
        Assert.Equal(JsonValueKind.Object, logout.ValueKind);
        return token;
    }

    [Fact]
    public async Task Deactivation_over_SCIM_sends_each_app_of_the_session_a_signed_logout_token()
    {
        await using var x = await SignalArrangement.StartAsync();
        using var browser = x.Server.CreateBrowser();
        var (userId, sid, _, _) = await x.SignInToBothAppsAsync(browser);
        var scim = x.Scim();
        var id = await x.ProvisionAsync(scim);

        await x.SetActiveAsync(scim, id, active: false);

        var reports = (await x.Reports.WaitForAsync(1)).Single();
        var billing = (await x.Billing.WaitForAsync(1)).Single();
        await AssertLogoutTokenAsync(x, reports, TestConfiguration.PublicClient, "ES256", userId, sid);
        await AssertLogoutTokenAsync(x, billing, TestConfiguration.WebClient, "RS256", userId, sid);

        var audit = await x.Server.AuditAsync(until: rows => rows.Count(a => a.Event == "signal.delivered" && a.ClientId is not null) >= 2);
        Assert.Contains(audit, a => a.Event == "signal.delivered" && a.ClientId == TestConfiguration.PublicClient && a.Detail!.Contains("backchannel-logout", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Event == "signal.delivered" && a.ClientId == TestConfiguration.WebClient);
    }

    [Fact]
    public async Task Signing_out_sends_logout_tokens_to_the_apps_of_that_session_only()
    {
        await using var x = await SignalArrangement.StartAsync();
        using var browser = x.Server.CreateBrowser();
        var (userId, sid, _, _) = await x.SignInToBothAppsAsync(browser);

        var response = await browser.GetAsync("logout");
        // No post_logout_redirect_uri: Tessera's own signed-out page.
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/signed-out", response.Headers.Location?.OriginalString);

        await AssertLogoutTokenAsync(x, (await x.Reports.WaitForAsync(1)).Single(), TestConfiguration.PublicClient, "ES256", userId, sid);
        await AssertLogoutTokenAsync(x, (await x.Billing.WaitForAsync(1)).Single(), TestConfiguration.WebClient, "RS256", userId, sid);
        var set = (await x.Api.WaitForAsync(1)).Single();
        Assert.Equal(sid, SecurityEventTokenTests.SubjectId(set.Jwt).GetProperty("session").GetProperty("id").GetString());
        Assert.Equal("user", SecurityEventTokenTests.Event(set.Jwt, SecurityEventTokenTests.SessionRevoked).GetProperty("initiating_entity").GetString());
    }

    [Fact]
    public async Task Replaying_a_spent_refresh_token_ends_its_session_and_tells_every_app()
    {
        await using var x = await SignalArrangement.StartAsync();
        using var browser = x.Server.CreateBrowser();
        var (userId, sid, reports, billing) = await x.SignInToBothAppsAsync(browser);
        var spent = reports["refresh_token"]!;
        Assert.Equal(200, (await Oauth.RefreshAsync(x.Http, TestConfiguration.PublicClient, null, spent)).Status);

        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(x.Http, TestConfiguration.PublicClient, null, spent)).Error);

        await AssertLogoutTokenAsync(x, (await x.Reports.WaitForAsync(1)).Single(), TestConfiguration.PublicClient, "ES256", userId, sid);
        await AssertLogoutTokenAsync(x, (await x.Billing.WaitForAsync(1)).Single(), TestConfiguration.WebClient, "RS256", userId, sid);

        // The other app's family was granted under the same session, so it ends too.
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(x.Http, TestConfiguration.WebClient, TestConfiguration.WebSecret, billing["refresh_token"]!)).Error);
        var set = (await x.Api.WaitForAsync(1)).Single();
        Assert.Equal("policy", SecurityEventTokenTests.Event(set.Jwt, SecurityEventTokenTests.SessionRevoked).GetProperty("initiating_entity").GetString());
    }

    [Fact]
    public async Task An_app_that_refuses_a_logout_token_is_not_asked_again_and_the_refusal_is_audited()
    {
        await using var x = await SignalArrangement.StartAsync();
        x.Reports.Answer = _ => 400;
        using var browser = x.Server.CreateBrowser();
        await x.SignInToBothAppsAsync(browser);

        await browser.GetAsync("logout");
        await x.Billing.WaitForAsync(1);
        await x.Reports.WaitForAsync(1);
        await Task.Delay(1500); // longer than the first retry would wait

        Assert.Single(x.Reports.Requests);
        var audit = await x.Server.AuditAsync(until: rows => rows.Any(a => a.Event == "signal.refused"));
        var refused = Assert.Single(audit, a => a.Event == "signal.refused");
        Assert.Equal(TestConfiguration.PublicClient, refused.ClientId);
        Assert.Contains("invalid_request", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_advertises_back_channel_logout_with_session_ids()
    {
        await using var x = await SignalArrangement.StartAsync();
        using var discovery = JsonDocument.Parse(await x.Http.GetStringAsync(".well-known/openid-configuration"));
        Assert.True(discovery.RootElement.GetProperty("backchannel_logout_supported").GetBoolean());
        Assert.True(discovery.RootElement.GetProperty("backchannel_logout_session_supported").GetBoolean());
    }
}
