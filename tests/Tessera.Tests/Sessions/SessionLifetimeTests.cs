using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Sessions;

public sealed class SessionLifetimeTests
{
    private static async Task<bool> HasSessionAsync(BrokeredSignIn env, Browser browser)
    {
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["prompt"] = "none" });
        return outcome.Code is not null;
    }

    [Fact]
    public async Task An_idle_session_ends_after_the_idle_timeout_and_its_refresh_tokens_die_with_it()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var env = await BrokeredSignIn.StartAsync(o => o.Sessions.IdleTimeout = TimeSpan.FromMinutes(30), time);
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        time.Advance(TimeSpan.FromMinutes(20));
        Assert.True(await HasSessionAsync(env, browser)); // activity resets the idle timer
        time.Advance(TimeSpan.FromMinutes(20));
        Assert.True(await HasSessionAsync(env, browser));
        time.Advance(TimeSpan.FromMinutes(31));

        Assert.False(await HasSessionAsync(env, browser));
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Error);
    }

    [Fact]
    public async Task A_session_ends_at_its_absolute_lifetime_however_active_it_is()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var env = await BrokeredSignIn.StartAsync(o => o.Sessions.AbsoluteLifetime = TimeSpan.FromHours(2), time);
        using var browser = env.Server.CreateBrowser();
        await env.SignInAsync(browser);

        for (var hour = 0; hour < 3; hour++)
        {
            time.Advance(TimeSpan.FromMinutes(50));
            Assert.Equal(hour < 2, await HasSessionAsync(env, browser));
        }
    }

    [Fact]
    public async Task A_session_never_outlives_the_upstream_session()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var env = await BrokeredSignIn.StartAsync(o => o.Organizations[0].Connections[0].SessionExpiryClaim = "session_exp", time);
        env.Idp.ClaimsEditor = claims => claims["session_exp"] = time.GetUtcNow().AddMinutes(15).ToUnixTimeSeconds();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        time.Advance(TimeSpan.FromMinutes(10));
        Assert.True(await HasSessionAsync(env, browser));
        time.Advance(TimeSpan.FromMinutes(6));

        Assert.False(await HasSessionAsync(env, browser));
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Error);
    }

    [Fact]
    public async Task A_connection_can_cap_its_sessions_below_the_global_lifetime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var env = await BrokeredSignIn.StartAsync(o => o.Organizations[0].Connections[0].MaxSessionLifetime = TimeSpan.FromMinutes(5), time);
        using var browser = env.Server.CreateBrowser();
        await env.SignInAsync(browser);

        var session = await env.Server.WithDbAsync(db => db.Sessions.SingleAsync());
        Assert.Equal(time.GetUtcNow().AddMinutes(5).UtcDateTime, session.ExpiresAt, TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.False(await HasSessionAsync(env, browser));
    }

    [Fact]
    public async Task The_session_cookie_is_http_only_lax_and_holds_no_session_id()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        var cookie = browser.Cookies.GetAllCookies().Single(c => c.Name == "tessera.session");
        Assert.True(cookie.HttpOnly);
        Assert.False(cookie.Secure); // plain http is allowed on loopback only
        var session = await env.Server.WithDbAsync(db => db.Sessions.SingleAsync());
        Assert.DoesNotContain(tokens.IdToken.GetPayloadValue<string>("sid"), cookie.Value, StringComparison.Ordinal);
        Assert.DoesNotContain(session.Id, cookie.Value, StringComparison.Ordinal);
        Assert.DoesNotContain(cookie.Value, session.SecretHash, StringComparison.Ordinal);

        // A CookieContainer keeps no SameSite: read it from the header the server writes for this session.
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        env.Server.Service<Tessera.Sessions.BrowserCookies>().WriteSession(context, cookie.Value, DateTimeOffset.UtcNow.AddHours(1));
        Assert.Contains("samesite=lax", context.Response.Headers.SetCookie.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Outside_loopback_the_session_cookie_is_secure()
    {
        var idp = await FakeUpstreamIdp.StartAsync();
        await using var _ = idp;
        await using var server = await TesseraTestServer.StartAsync(o =>
        {
            o.Issuer = "https://tessera.example";
            TestConfiguration.AddStMarys(o, idp);
        });
        var cookies = server.Service<Tessera.Sessions.BrowserCookies>();
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();

        cookies.WriteSession(context, "value", DateTimeOffset.UtcNow.AddHours(1));

        var header = context.Response.Headers.SetCookie.ToString();
        Assert.Contains("secure", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", header, StringComparison.OrdinalIgnoreCase);
    }
}
