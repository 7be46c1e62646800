using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Federation;

/// <summary>
/// An identity provider whose name resolves to a private address is not contacted unless
/// <c>Network.AllowPrivateUpstreams</c> says so, and the setting takes effect with a reload.
/// </summary>
public sealed class PrivateUpstreamTests
{
    // Not localhost and not an IP literal, so the configuration compiler lets it through: only the connection can tell.
    private const string IdpName = "idp.stmarys.example";

    private static readonly Dictionary<string, string?> LoginHint = new() { ["login_hint"] = "alice@stmarys.example" };

    /// <summary>Starts a sign-in without hints and answers the email question, as a person does.</summary>
    private static async Task<HttpResponseMessage> SignInByEmailAsync(Browser browser)
    {
        var (_, challenge) = Oauth.Pkce();
        var page = await browser.NavigateAsync(Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", "s", "n", challenge));
        var html = await page.Response.Content.ReadAsStringAsync();
        return await browser.PostFormAsync(browser.History[^1].AbsoluteUri, new Dictionary<string, string>
        {
            ["email"] = "alice@stmarys.example",
            ["returnUrl"] = QueryHelpers.ParseQuery(browser.History[^1].Query)["returnUrl"]!,
            ["__RequestVerificationToken"] = Html.HiddenValue(html, "__RequestVerificationToken"),
        });
    }

    private static async Task ReloadAsync(BrokeredSignIn env, bool allowPrivate)
    {
        var updated = ConfigurationLoader.LoadFile(env.ConfigFile!).Options!;
        updated.Network.AllowPrivateUpstreams = allowPrivate;
        ConfigurationFile.Write(updated, env.ConfigFile);
        var reload = await env.Server.Service<ConfigurationWatcher>().ReloadAsync(CancellationToken.None);
        Assert.True(reload.Succeeded, string.Join("; ", reload.Errors));
    }

    [Fact]
    public async Task A_sign_in_through_a_name_that_resolves_to_loopback_ends_on_the_error_page_and_sends_the_idp_nothing()
    {
        await using var env = await BrokeredSignIn.StartByNameAsync(IdpName, o => o.Network.AllowPrivateUpstreams = false);
        using var browser = env.Server.CreateBrowser();

        var page = await SignInByEmailAsync(browser);

        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        var html = WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync());
        Assert.Contains("upstream_unavailable", html, StringComparison.Ordinal);
        Assert.Contains("its address is private, and Network.AllowPrivateUpstreams is off", html, StringComparison.Ordinal);
        Assert.Equal(0, env.Idp.Requests);
        var failed = Assert.Single(await env.Server.AuditAsync(), a => a.Event == "signin.failed");
        Assert.Equal("upstream_unavailable: The identity provider could not be reached: its address is private, and Network.AllowPrivateUpstreams is off.", failed.Reason);
        Assert.Contains(env.Server.Logs.Lines, l => l.Contains("[3201] Upstream connection to " + IdpName + " refused: 127.0.0.1 is loopback", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Behind_a_login_hint_the_refusal_goes_back_to_the_app_as_temporarily_unavailable()
    {
        await using var env = await BrokeredSignIn.StartByNameAsync(IdpName, o => o.Network.AllowPrivateUpstreams = false);
        using var browser = env.Server.CreateBrowser();

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", LoginHint);

        Assert.Equal("temporarily_unavailable", outcome.Error);
        Assert.Equal(0, env.Idp.Requests);
    }

    [Fact]
    public async Task The_same_sign_in_succeeds_when_private_upstreams_are_allowed()
    {
        await using var env = await BrokeredSignIn.StartByNameAsync(IdpName, o => o.Network.AllowPrivateUpstreams = true);
        using var browser = env.Server.CreateBrowser();

        var (_, tokens) = await env.SignInAsync(browser);

        Assert.Equal(TestConfiguration.Organization, tokens.IdToken.GetPayloadValue<string>("org"));
        Assert.Equal(1, env.Idp.TokenRequests);
        Assert.StartsWith($"https://{IdpName}:", env.Idp.Issuer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reload_that_turns_the_setting_on_and_off_again_takes_effect_without_a_restart()
    {
        await using var env = await BrokeredSignIn.StartByNameAsync(IdpName, o => o.Network.AllowPrivateUpstreams = false, fromFile: true);
        using var before = env.Server.CreateBrowser();
        Assert.Equal("temporarily_unavailable", (await Oauth.AuthorizeAsync(before, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", LoginHint)).Error);
        Assert.Equal(0, env.Idp.Requests);

        await ReloadAsync(env, allowPrivate: true);
        using var allowed = env.Server.CreateBrowser();
        await env.SignInAsync(allowed);

        // Off again: discovery is cached and the client holds a connection to the IdP from the sign-in above, yet
        // the code is never redeemed, because that connection refuses to send and a new one is refused.
        await ReloadAsync(env, allowPrivate: false);
        using var after = env.Server.CreateBrowser();
        var outcome = await Oauth.AuthorizeAsync(after, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", LoginHint);

        Assert.Null(outcome.Code);
        Assert.Equal(HttpStatusCode.BadRequest, outcome.Response.StatusCode);
        Assert.Equal(1, env.Idp.TokenRequests);
        var failed = (await env.Server.AuditAsync()).Last(a => a.Event == "signin.failed");
        Assert.Contains("its address is private, and Network.AllowPrivateUpstreams is off", failed.Reason, StringComparison.Ordinal);
    }
}
