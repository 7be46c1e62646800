using Microsoft.EntityFrameworkCore;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Admin;

/// <summary>Users (search, disable, sessions), SCIM tokens and the audit log through the Admin API.</summary>
public sealed class UserAndAuditResourceTests
{
    [Fact]
    public async Task Users_are_found_by_email_and_external_id_and_disabling_one_ends_its_access_at_once()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var admin = await AdminApi.OrganizationAsync(env.Server);
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);
        var userId = tokens.IdToken.Subject;

        var byEmail = await AdminApi.GetAsync(admin, "users?email=ALICE@stmarys.example");
        var byExternalId = await AdminApi.GetAsync(admin, $"users?externalId={env.Idp.Person.Subject}");
        var sessions = await AdminApi.GetAsync(admin, $"users/{userId}/sessions");
        var disabled = await AdminApi.PostAsync(admin, $"users/{userId}/disable", new { reason = "left the hospital" });
        var refresh = await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);
        var shown = await AdminApi.GetAsync(admin, $"users/{userId}");
        var enabled = await AdminApi.PostAsync(admin, $"users/{userId}/enable");

        Assert.Equal(userId, byEmail.Body["items"]!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.Equal(userId, byExternalId.Body["items"]!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.Equal(tokens.IdToken.GetPayloadValue<string>("sid"), sessions.Body["items"]!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.Equal(200, disabled.Status);
        Assert.Equal(1, disabled.Body["sessions_ended"]!.GetValue<int>());
        Assert.Equal("invalid_grant", refresh.Error);
        Assert.NotNull(shown.Body["disabled_at"]);
        Assert.True(enabled.Body["enabled"]!.GetValue<bool>());
        var audit = await env.Server.AuditAsync();
        Assert.Contains(audit, a => a.Event == "user.access_revoked" && a.ClientId == AdminApi.OrganizationClient && a.Reason == "left the hospital");
        // The outbox has the signal, as for every other cause.
        Assert.True(await env.Server.WithDbAsync(db => db.SignalEvents.AnyAsync(e => e.Type == "account-disabled" && e.InitiatingEntity == "admin")));
    }

    [Fact]
    public async Task Ending_a_users_sessions_revokes_what_was_granted_under_them()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var admin = await AdminApi.PlatformAsync(env.Server);
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        var ended = await AdminApi.DeleteAsync(admin, $"users/{tokens.IdToken.Subject}/sessions");
        var again = await AdminApi.DeleteAsync(admin, $"users/{tokens.IdToken.Subject}/sessions/{tokens.IdToken.GetPayloadValue<string>("sid")}");

        Assert.Equal(1, ended.Body["sessions_ended"]!.GetValue<int>());
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Error);
        Assert.Equal(404, again.Status);
    }

    [Fact]
    public async Task Another_organizations_users_are_not_found_by_an_organization_admin()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var platform = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(platform, "organizations", new { Id = "acme" });
        await AdminApi.PostAsync(platform, "organizations/acme/connections",
            new { Id = "acme-oidc", Protocol = "oidc", Authority = env.Idp.Issuer, ClientId = FakeUpstreamIdp.ClientId, ClientSecret = FakeUpstreamIdp.ClientSecret });
        using var browser = env.Server.CreateBrowser();
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", new Dictionary<string, string?> { ["connection"] = "acme-oidc" });
        Assert.NotNull(outcome.Code);
        var acmeUser = (await env.Server.WithDbAsync(db => db.Users.SingleAsync(u => u.OrganizationId == "acme"))).Id;
        using var stMarys = await AdminApi.OrganizationAsync(env.Server);

        var get = await AdminApi.GetAsync(stMarys, $"users/{acmeUser}");
        var disable = await AdminApi.PostAsync(stMarys, $"users/{acmeUser}/disable");
        var search = await AdminApi.GetAsync(stMarys, "users");

        Assert.Equal(404, get.Status);
        Assert.Equal(404, disable.Status);
        Assert.Empty(search.Body["items"]!.AsArray());
        Assert.Null((await env.Server.WithDbAsync(db => db.Users.SingleAsync(u => u.Id == acmeUser))).DisabledAt);
    }

    [Fact]
    public async Task A_SCIM_token_from_the_API_is_shown_once_opens_the_directory_and_is_revoked_at_once()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var admin = await AdminApi.OrganizationAsync(env.Server);

        var created = await AdminApi.PostAsync(admin, "organizations/st-marys/scim-tokens", new { description = "Okta provisioning" });
        var token = created.Body["token"]!.GetValue<string>();
        using var http = env.Server.CreateClient();
        var scim = new ScimClient(http, TestConfiguration.Organization, token);
        var opened = await scim.GetAsync("Users");
        var listed = await AdminApi.GetAsync(admin, "organizations/st-marys/scim-tokens");
        var revoked = await AdminApi.DeleteAsync(admin, $"organizations/st-marys/scim-tokens/{created.Body["id"]!.GetValue<string>()}");
        var closed = await scim.GetAsync("Users");

        Assert.Equal(201, created.Status);
        Assert.Equal("http://localhost/scim/v2/st-marys", created.Body["base_url"]!.GetValue<string>());
        Assert.Equal(200, opened.Status);
        Assert.DoesNotContain(token, listed.Json!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(204, revoked.Status);
        Assert.Equal(401, closed.Status);
    }

    [Fact]
    public async Task The_audit_log_is_queried_by_event_and_organization_in_pages_and_an_organization_sees_only_its_own()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var platform = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(platform, "organizations", new { Id = "acme" });
        await AdminApi.PostAsync(platform, "organizations", new { Id = "globex" });
        using var browser = env.Server.CreateBrowser();
        await env.SignInAsync(browser);
        await env.Server.AuditAsync();
        using var stMarys = await AdminApi.OrganizationAsync(env.Server);

        var changes = await AdminApi.GetAsync(platform, "audit?event=admin.changed&limit=1");
        var next = await AdminApi.GetAsync(platform, $"audit?event=admin.changed&limit=1&after={changes.Body["next"]!.GetValue<string>()}");
        var own = await AdminApi.GetAsync(stMarys, "audit");
        var window = await AdminApi.GetAsync(platform, $"audit?from={DateTime.UtcNow.AddYears(1):O}");

        Assert.Equal("acme", changes.Body["items"]!.AsArray().Single()!["organization"]!.GetValue<string>());
        Assert.Equal(AdminApi.PlatformClient, changes.Body["items"]![0]!["client"]!.GetValue<string>());
        Assert.Equal("globex", next.Body["items"]!.AsArray().Single()!["organization"]!.GetValue<string>());
        var ownRows = own.Body["items"]!.AsArray();
        Assert.NotEmpty(ownRows);
        Assert.All(ownRows, row => Assert.Equal("st-marys", row!["organization"]!.GetValue<string>()));
        Assert.Contains(ownRows, row => row!["event"]!.GetValue<string>() == "signin.succeeded");
        Assert.Matches("^[0-9a-f]{64}$", ownRows[0]!["hash"]!.GetValue<string>());
        Assert.Empty(window.Body["items"]!.AsArray());
    }
}
