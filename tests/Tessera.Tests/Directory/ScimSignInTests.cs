using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Directory;

/// <summary>How provisioned users meet the people who sign in, and how provisioned groups feed the mapping rules.</summary>
public sealed class ScimSignInTests
{
    private const string Scope = "openid email offline_access night_shift";

    private static Task<BrokeredSignIn> StartAsync(Action<ScimOptions>? scim = null) => BrokeredSignIn.StartAsync(options =>
    {
        ScimClient.Configure(options, scim);
        options.Clients.Single(c => c.ClientId == TestConfiguration.PublicClient).Scopes.Add("night_shift");
        options.Organizations.Single(o => o.Id == TestConfiguration.Organization).Rules.Add(
            new RuleOptions { When = new() { ["groups"] = "Night Shift" }, Grant = new GrantOptions { Scopes = ["night_shift"], Claims = new() { ["shift"] = "night" } } });
    });

    private static ScimClient Scim(BrokeredSignIn env) => new(env.Http, TestConfiguration.Organization, ScimClient.StMarysToken);

    [Fact]
    public async Task A_user_provisioned_first_is_the_user_who_signs_in_later()
    {
        await using var env = await StartAsync();
        var id = (await Scim(env).PostAsync("Users", ScimClient.User(env.Idp.Person.Email.ToUpperInvariant()))).Id;

        var (_, tokens) = await env.SignInAsync(env.Server.CreateBrowser());

        Assert.Equal(id, tokens.AccessToken.Subject);
        Assert.Equal(1, await env.Server.WithDbAsync(db => db.Users.CountAsync()));
    }

    [Fact]
    public async Task The_external_id_match_links_by_upstream_subject()
    {
        await using var env = await StartAsync(scim => scim.Match = ScimOptions.MatchExternalId);
        var scim = Scim(env);
        var byEmail = (await scim.PostAsync("Users", ScimClient.User(env.Idp.Person.Email))).Id;
        var bySubject = (await scim.PostAsync("Users", ScimClient.User("alice.adams", externalId: env.Idp.Person.Subject))).Id;

        var (_, tokens) = await env.SignInAsync(env.Server.CreateBrowser());

        Assert.Equal(bySubject, tokens.AccessToken.Subject);
        Assert.NotEqual(byEmail, tokens.AccessToken.Subject);
    }

    [Fact]
    public async Task A_provisioned_user_of_another_organization_is_never_linked()
    {
        await using var env = await StartAsync();
        var northwind = new ScimClient(env.Http, "northwind", ScimClient.NorthwindToken);
        var theirs = (await northwind.PostAsync("Users", ScimClient.User(env.Idp.Person.Email))).Id;

        var (_, tokens) = await env.SignInAsync(env.Server.CreateBrowser());

        Assert.NotEqual(theirs, tokens.AccessToken.Subject);
        Assert.Null(await env.Server.WithDbAsync(db => db.ExternalIdentities.FirstOrDefaultAsync(l => l.UserId == Guid.Parse(theirs))));
    }

    [Fact]
    public async Task An_unverified_upstream_email_links_nobody()
    {
        await using var env = await StartAsync();
        env.Idp.ClaimsEditor = claims => claims["email_verified"] = false;
        var provisioned = await Scim(env).PostAsync("Users", ScimClient.User(env.Idp.Person.Email));
        Assert.Equal(201, provisioned.Status);

        var (_, tokens) = await env.SignInAsync(env.Server.CreateBrowser());

        Assert.NotEqual(provisioned.Id, tokens.AccessToken.Subject);
        Assert.Equal(2, await env.Server.WithDbAsync(db => db.Users.CountAsync()));
    }

    [Fact]
    public async Task When_provisioning_is_required_only_provisioned_active_users_sign_in()
    {
        await using var env = await StartAsync(scim => scim.RequireProvisioning = true);
        using var browser = env.Server.CreateBrowser();
        var hint = new Dictionary<string, string?> { ["login_hint"] = env.Idp.Person.Email };

        var refused = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, Scope, hint);

        Assert.Null(refused.Code);
        Assert.Contains("has not given you access", await refused.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var row = (await env.Server.AuditAsync()).Last(a => a.Event == "signin.failed");
        Assert.StartsWith("not_provisioned", row.Reason, StringComparison.Ordinal);
        Assert.Equal(0, await env.Server.WithDbAsync(db => db.Users.CountAsync()));

        var id = (await Scim(env).PostAsync("Users", ScimClient.User(env.Idp.Person.Email))).Id;
        var (_, tokens) = await env.SignInAsync(env.Server.CreateBrowser());
        Assert.Equal(id, tokens.AccessToken.Subject);

        Assert.Equal(200, (await Scim(env).PatchAsync($"Users/{id}", ScimClient.Patch(ScimClient.Op("replace", "active", false)))).Status);
        var deactivated = await Oauth.AuthorizeAsync(env.Server.CreateBrowser(), TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, Scope, hint);
        Assert.Null(deactivated.Code);
        Assert.StartsWith("user_disabled", (await env.Server.AuditAsync()).Last(a => a.Event == "signin.failed").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provisioned_groups_grant_scopes_and_claims_at_the_next_issuance()
    {
        await using var env = await StartAsync();
        var scim = Scim(env);
        var alice = (await scim.PostAsync("Users", ScimClient.User(env.Idp.Person.Email))).Id;
        var group = await scim.PostAsync("Groups", new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"),
            ["displayName"] = "Night Shift",
            ["members"] = new JsonArray(new JsonObject { ["value"] = alice }),
        });
        Assert.Equal(201, group.Status);
        using var browser = env.Server.CreateBrowser();

        var (_, tokens) = await env.SignInAsync(browser, Scope);

        Assert.Contains("night_shift", tokens["scope"]!.Split(' '));
        Assert.Equal("night", tokens.AccessToken.GetPayloadValue<string>("shift"));

        // Out of the group: the next refresh drops what the group granted.
        Assert.Equal(204, (await scim.PatchAsync($"Groups/{group.Id}", ScimClient.Patch(ScimClient.Op("remove", $"members[value eq \"{alice}\"]", null)))).Status);
        var refreshed = await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);
        Assert.Equal(200, refreshed.Status);
        Assert.DoesNotContain("night_shift", refreshed["scope"]!.Split(' '));
        Assert.False(refreshed.AccessToken.TryGetPayloadValue<string>("shift", out _));

        // Back in the group (by its id this time, in a rule): the next authorization grants it again, without a new upstream sign-in.
        Assert.Equal(204, (await scim.PatchAsync($"Groups/{group.Id}", ScimClient.Patch(ScimClient.Op("add", "members", new JsonArray(new JsonObject { ["value"] = alice }))))).Status);
        var upstream = env.Idp.AuthorizeRequests;
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, Scope);
        var again = await Oauth.RedeemAsync(env.Http, TestConfiguration.PublicClient, null, TestConfiguration.PublicRedirect, outcome);
        Assert.Equal(upstream, env.Idp.AuthorizeRequests);
        Assert.Contains("night_shift", again["scope"]!.Split(' '));
    }
}
