using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Directory;

/// <summary>
/// Deactivation over SCIM cuts the user off within the request: right after the answer, nothing the user held
/// works any more, and enabling the user again brings none of it back.
/// </summary>
public sealed class ScimDeprovisioningTests
{
    private sealed record Held(string UserId, OauthResponse Reports, OauthResponse Billing, OauthResponse Exchanged);

    /// <summary>Alice signs in to two apps (one SSO session), holds refresh and access tokens and an exchanged token.</summary>
    private static async Task<Held> SignInEverywhereAsync(ExchangeArrangement x, Browser browser)
    {
        var (_, reports) = await x.Host.SignInAsync(browser);
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.WebClient, TestConfiguration.WebRedirect, "openid email offline_access");
        var billing = await Oauth.RedeemAsync(x.Http, TestConfiguration.WebClient, TestConfiguration.WebSecret, TestConfiguration.WebRedirect, outcome);
        Assert.Equal(200, billing.Status);
        Assert.NotNull(billing["refresh_token"]);
        var exchanged = await x.ExchangeAsync(reports["access_token"]!, ExchangeArrangement.AccessTokenType);
        Assert.Equal(200, exchanged.Status);
        return new Held(reports.AccessToken.Subject, reports, billing, exchanged);
    }

    private static async Task AssertCutOffAsync(ExchangeArrangement x, Browser browser, Held held)
    {
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(x.Http, TestConfiguration.PublicClient, null, held.Reports["refresh_token"]!)).Error);
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(x.Http, TestConfiguration.WebClient, TestConfiguration.WebSecret, held.Billing["refresh_token"]!)).Error);

        var introspected = await Oauth.IntrospectAsync(x.Http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, held.Reports["access_token"]!);
        Assert.Equal(200, introspected.Status);
        Assert.Equal("false", introspected["active"]);

        // The exchanged token has no stored entry; it is dead all the same.
        var exchangedIntrospection = await Oauth.IntrospectAsync(x.Http, ExchangeArrangement.Gateway, ExchangeArrangement.Secret, held.Exchanged["access_token"]!);
        Assert.Equal("false", exchangedIntrospection["active"]);

        // RFC 8693 §2.2.2: a subject token that is no longer valid is invalid_request.
        var exchangedAgain = await x.ExchangeAsync(held.Reports["access_token"]!, ExchangeArrangement.AccessTokenType);
        Assert.Equal(400, exchangedAgain.Status);
        Assert.Equal("invalid_request", exchangedAgain.Error);

        // The session cookie signs nobody in: the browser is sent upstream again, and the disabled user is refused there.
        var upstreamLogins = x.Host.Idp.AuthorizeRequests;
        var again = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["login_hint"] = x.Host.Idp.Person.Email });
        Assert.Null(again.Code);
        Assert.Contains("disabled", await again.Response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(upstreamLogins + 1, x.Host.Idp.AuthorizeRequests);
    }

    [Theory]
    [InlineData("patch, as Entra ID sends it", 200)]
    [InlineData("put, as Okta sends it", 200)]
    [InlineData("delete", 204)]
    public async Task Deprovisioning_ends_sessions_and_tokens_within_the_request(string how, int status)
    {
        await using var x = await ExchangeArrangement.StartAsync(options => ScimClient.Configure(options));
        using var browser = x.Server.CreateBrowser();
        var held = await SignInEverywhereAsync(x, browser);
        var scim = new ScimClient(x.Http, TestConfiguration.Organization, ScimClient.StMarysToken);

        // Signed in first, provisioned later: the SCIM user is the user who signed in.
        var created = await scim.PostAsync("Users", ScimClient.User(x.Host.Idp.Person.Email, externalId: "00u-alice"));
        Assert.Equal(201, created.Status);
        Assert.Equal(held.UserId, created.Id);

        var response = how switch
        {
            "delete" => await scim.DeleteAsync($"Users/{created.Id}"),
            "put, as Okta sends it" => await scim.PutAsync($"Users/{created.Id}", ScimClient.User(x.Host.Idp.Person.Email, externalId: "00u-alice", active: false)),
            _ => await scim.PatchAsync($"Users/{created.Id}", ScimClient.Patch(ScimClient.Op("Replace", "active", "False"))),
        };
        Assert.True(response.Status == status, response.ToString());

        await AssertCutOffAsync(x, browser, held);
        var audit = await x.Server.AuditAsync();
        Assert.Contains(audit, a => a.Event == "user.access_revoked" && a.UserId == held.UserId);
        Assert.Contains(audit, a => a.Event == "session.ended" && a.UserId == held.UserId);
    }

    [Fact]
    public async Task Reactivation_does_not_resurrect_old_tokens_but_lets_the_user_sign_in_again()
    {
        await using var x = await ExchangeArrangement.StartAsync(options => ScimClient.Configure(options));
        using var browser = x.Server.CreateBrowser();
        var held = await SignInEverywhereAsync(x, browser);
        var scim = new ScimClient(x.Http, TestConfiguration.Organization, ScimClient.StMarysToken);
        var id = (await scim.PostAsync("Users", ScimClient.User(x.Host.Idp.Person.Email))).Id;
        Assert.Equal(200, (await scim.PatchAsync($"Users/{id}", ScimClient.Patch(ScimClient.Op("replace", null, new JsonObject { ["active"] = false })))).Status);

        var reactivated = await scim.PatchAsync($"Users/{id}", ScimClient.Patch(ScimClient.Op("replace", null, new JsonObject { ["active"] = true })));

        Assert.Equal(200, reactivated.Status);
        Assert.True(reactivated.Json!["active"]!.GetValue<bool>());
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(x.Http, TestConfiguration.PublicClient, null, held.Reports["refresh_token"]!)).Error);
        Assert.Equal("false", (await Oauth.IntrospectAsync(x.Http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, held.Reports["access_token"]!))["active"]);
        Assert.Equal("false", (await Oauth.IntrospectAsync(x.Http, ExchangeArrangement.Gateway, ExchangeArrangement.Secret, held.Exchanged["access_token"]!))["active"]);

        // A new sign-in works, as the same user, and its tokens are good. (A second later: revocation is
        // recorded to the instant, token issue times to the second.)
        await Task.Delay(1100);
        using var fresh = x.Server.CreateBrowser();
        var (_, tokens) = await x.Host.SignInAsync(fresh);
        Assert.Equal(id, tokens.AccessToken.Subject);
        Assert.Equal("true", (await Oauth.IntrospectAsync(x.Http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, tokens["access_token"]!))["active"]);
    }

    [Fact]
    public async Task A_user_provisioned_inactive_cannot_sign_in()
    {
        await using var x = await ExchangeArrangement.StartAsync(options => ScimClient.Configure(options));
        using var browser = x.Server.CreateBrowser();
        var held = await SignInEverywhereAsync(x, browser);
        var scim = new ScimClient(x.Http, TestConfiguration.Organization, ScimClient.StMarysToken);

        Assert.Equal(201, (await scim.PostAsync("Users", ScimClient.User(x.Host.Idp.Person.Email, active: false))).Status);

        await AssertCutOffAsync(x, browser, held);
        var user = await x.Server.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == Guid.Parse(held.UserId)));
        Assert.NotNull(user.DisabledAt);
    }
}
