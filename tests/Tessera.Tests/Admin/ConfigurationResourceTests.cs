using System.Text;
using Microsoft.EntityFrameworkCore;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Admin;

/// <summary>Configuration through the Admin API: managed resources work on the next request; the file's are shown and left alone.</summary>
public sealed class ConfigurationResourceTests
{
    private static Task<BrokeredSignIn> StartAsync() => BrokeredSignIn.StartAsync(AdminApi.AddClients);

    private static object Connection(FakeUpstreamIdp idp, string id = "acme-oidc") =>
        new { Id = id, Protocol = "oidc", Authority = idp.Issuer, ClientId = FakeUpstreamIdp.ClientId, ClientSecret = FakeUpstreamIdp.ClientSecret };

    private static async Task<AuthorizationOutcome> SignInAsync(BrokeredSignIn env, string connection)
    {
        using var browser = env.Server.CreateBrowser();
        return await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid email",
            new Dictionary<string, string?> { ["connection"] = connection });
    }

    [Fact]
    public async Task An_organization_and_connection_created_through_the_API_sign_users_in_on_the_next_request()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);

        var organization = await AdminApi.PostAsync(admin, "organizations", new { Id = "acme", DisplayName = "Acme", Domains = new[] { "acme.example" } });
        var connection = await AdminApi.PostAsync(admin, "organizations/acme/connections", Connection(env.Idp));
        var outcome = await SignInAsync(env, "acme-oidc");

        Assert.Equal(201, organization.Status);
        Assert.Equal("\"1\"", organization.ETag);
        Assert.EndsWith("/admin/v1/organizations/acme", organization.Message.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Equal("managed", organization.Body["source"]!.GetValue<string>());
        Assert.Equal(201, connection.Status);
        Assert.True(outcome.Code is not null, $"{outcome.Redirect} {await outcome.Response.Content.ReadAsStringAsync()}");
        var link = await env.Server.WithDbAsync(db => db.ExternalIdentities.SingleAsync());
        Assert.Equal(("acme", "acme-oidc"), (link.OrganizationId, link.ConnectionId));
    }

    [Fact]
    public async Task Home_realm_discovery_finds_a_managed_organization_by_its_domain()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme", Domains = new[] { "acme.example" } });
        await AdminApi.PostAsync(admin, "organizations/acme/connections", Connection(env.Idp));
        using var browser = env.Server.CreateBrowser();

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["login_hint"] = "alice@acme.example" });

        Assert.NotNull(outcome.Code);
        Assert.Equal("acme", (await env.Server.WithDbAsync(db => db.Users.SingleAsync())).OrganizationId);
    }

    [Fact]
    public async Task A_draft_connection_signs_nobody_in_until_it_is_made_active()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme" });
        var draft = await AdminApi.PostAsync(admin, "organizations/acme/connections", new { Id = "acme-oidc", Protocol = "oidc", Authority = env.Idp.Issuer, ClientId = FakeUpstreamIdp.ClientId, ClientSecret = FakeUpstreamIdp.ClientSecret, status = "draft" });

        var refused = await SignInAsync(env, "acme-oidc");
        var upstreamRequests = env.Idp.AuthorizeRequests;
        var activated = await AdminApi.PutAsync(admin, "organizations/acme/connections/acme-oidc",
            new { Id = "acme-oidc", Protocol = "oidc", Authority = env.Idp.Issuer, ClientId = FakeUpstreamIdp.ClientId, status = "active" }, ifMatch: draft.ETag);
        var accepted = await SignInAsync(env, "acme-oidc");

        Assert.Equal("draft", draft.Body["status"]!.GetValue<string>());
        Assert.Null(refused.Code);
        Assert.Equal(0, upstreamRequests);
        Assert.Equal(200, activated.Status);
        Assert.Equal("active", activated.Body["status"]!.GetValue<string>());
        Assert.NotNull(accepted.Code); // the secret left out of the replacement was kept
    }

    [Fact]
    public async Task The_files_resources_are_shown_and_refused_for_change()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);
        var revision = await RevisionAsync(env);

        var shown = await AdminApi.GetAsync(admin, "organizations/st-marys/connections/stmarys-oidc");
        var replaced = await AdminApi.PutAsync(admin, "organizations/st-marys", new { Id = "st-marys", Domains = new[] { "evil.example" } });
        var deleted = await AdminApi.DeleteAsync(admin, "clients/" + TestConfiguration.ServiceClient);
        var connection = await AdminApi.PutAsync(admin, "organizations/st-marys/connections/stmarys-oidc", Connection(env.Idp, "stmarys-oidc"));

        Assert.Equal(200, shown.Status);
        Assert.Equal("file", shown.Body["source"]!.GetValue<string>());
        Assert.Null(shown.Body["ClientSecret"]); // secrets are never shown, the file's neither
        foreach (var refused in new[] { replaced, deleted, connection })
        {
            Assert.Equal(409, refused.Status);
            Assert.Equal("managed_by_file", refused.Code);
            Assert.Equal("application/problem+json", refused.ContentType);
            Assert.Contains("configuration file", refused.Body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(revision, await RevisionAsync(env));
        Assert.NotNull((await SignInAsync(env, TestConfiguration.Connection)).Code);
    }

    [Fact]
    public async Task A_stale_If_Match_is_refused_with_412_and_the_current_one_goes_through()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);
        var created = await AdminApi.PostAsync(admin, "organizations", new { Id = "acme", DisplayName = "Acme" });
        var first = await AdminApi.PutAsync(admin, "organizations/acme", new { Id = "acme", DisplayName = "Acme Ltd" }, ifMatch: created.ETag);

        var stale = await AdminApi.PutAsync(admin, "organizations/acme", new { Id = "acme", DisplayName = "Acme plc" }, ifMatch: created.ETag);
        var staleDelete = await AdminApi.DeleteAsync(admin, "organizations/acme", ifMatch: created.ETag);
        var current = await AdminApi.GetAsync(admin, "organizations/acme");

        Assert.Equal(200, first.Status);
        Assert.Equal("\"2\"", first.ETag);
        Assert.Equal(412, stale.Status);
        Assert.Equal("precondition_failed", stale.Code);
        Assert.Equal(412, staleDelete.Status);
        Assert.Equal("Acme Ltd", current.Body["DisplayName"]!.GetValue<string>());
        Assert.Equal(2, current.Body["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task Refused_configuration_names_each_error_by_its_path_in_the_body()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme" });

        var domain = await AdminApi.PostAsync(admin, "organizations", new { Id = "evil", Domains = new[] { "stmarys.example" } });
        var connection = await AdminApi.PostAsync(admin, "organizations/acme/connections",
            new { Id = "acme-oidc", Protocol = "oidc", Authority = "http://idp.acme.example", Scopes = new[] { "email" }, ClockSkew = "01:00:00" });

        Assert.Equal(400, domain.Status);
        Assert.Equal("invalid_configuration", domain.Code);
        Assert.Equal(["$.Domains[0]"], domain.ErrorPaths);
        Assert.Contains("already belongs to organization 'st-marys'", domain.Body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(400, connection.Status);
        Assert.Equal(["$.Authority", "$.ClientId", "$.ClientSecret", "$.ClockSkew", "$.Scopes"], connection.ErrorPaths.Order(StringComparer.Ordinal));
        Assert.Contains("$.Authority: must use https unless the host is a loopback address", connection.Body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(await env.Server.WithDbAsync(db => db.ManagedResources.FirstOrDefaultAsync(r => r.Id == "evil" || r.Id == "acme-oidc")));
    }

    [Fact]
    public async Task Secrets_are_stored_encrypted_and_never_shown_logged_or_audited()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme" });

        var created = await AdminApi.PostAsync(admin, "organizations/acme/connections", Connection(env.Idp));
        var shown = await AdminApi.GetAsync(admin, "organizations/acme/connections/acme-oidc");
        var listed = await AdminApi.GetAsync(admin, "organizations/acme/connections");

        Assert.Equal(201, created.Status);
        foreach (var response in new[] { created, shown, listed })
        {
            Assert.DoesNotContain(FakeUpstreamIdp.ClientSecret, response.Json!.ToJsonString(), StringComparison.Ordinal);
        }

        Assert.Equal(["ClientSecret"], shown.Body["secrets"]!.AsArray().Select(s => s!.GetValue<string>()));
        var row = await env.Server.WithDbAsync(db => db.ManagedResources.SingleAsync(r => r.Id == "acme-oidc"));
        Assert.DoesNotContain(FakeUpstreamIdp.ClientSecret, row.Document, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeUpstreamIdp.ClientSecret, Encoding.UTF8.GetString(row.ProtectedSecrets!), StringComparison.Ordinal);
        var audit = await env.Server.AuditAsync();
        var change = Assert.Single(audit, a => a.Event == "admin.changed" && a.ConnectionId == "acme-oidc");
        Assert.Equal(AdminApi.PlatformClient, change.ClientId);
        Assert.Contains("\"secrets_changed\":\"ClientSecret\"", change.Detail, StringComparison.Ordinal);
        Assert.Contains("\"before\":\"none\"", change.Detail, StringComparison.Ordinal);
        Assert.Matches("\"after\":\"sha256:[0-9a-f]{64}\"", change.Detail);
        Assert.DoesNotContain(audit, a => (a.Detail ?? "").Contains(FakeUpstreamIdp.ClientSecret, StringComparison.Ordinal));
        Assert.DoesNotContain(env.Server.Logs.Lines, l => l.Contains(FakeUpstreamIdp.ClientSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rules_from_the_API_grant_scopes_at_the_next_sign_in()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);
        env.Idp.Person = env.Idp.Person with { Groups = ["Radiology"] };

        var rule = await AdminApi.PostAsync(admin, "organizations/st-marys/rules",
            new { When = new Dictionary<string, string> { ["groups"] = "Radiology" }, Grant = new { Scopes = new[] { "doctor_access" } } });
        var listed = await AdminApi.GetAsync(admin, "organizations/st-marys/rules");
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        Assert.Equal(201, rule.Status);
        Assert.StartsWith("rule-", rule.Body["Id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["file", "file", "managed"], listed.Body["items"]!.AsArray().Select(r => r!["source"]!.GetValue<string>()));
        Assert.Contains("doctor_access", tokens.AccessToken.GetPayloadValue<string>("scope").Split(' '));
    }

    [Fact]
    public async Task An_organization_admin_may_not_make_a_scope_rule_controlled_for_everyone_but_may_grant_one_that_is()
    {
        await using var env = await StartAsync();
        using var organizationAdmin = await AdminApi.OrganizationAsync(env.Server);
        using var platform = await AdminApi.PlatformAsync(env.Server);
        var rule = new { When = new Dictionary<string, string> { ["groups"] = "Radiology" }, Grant = new { Scopes = new[] { "read:reports" } } };

        var refused = await AdminApi.PostAsync(organizationAdmin, "organizations/st-marys/rules", rule);
        var existing = await AdminApi.PostAsync(organizationAdmin, "organizations/st-marys/rules",
            new { When = new Dictionary<string, string> { ["groups"] = "Radiology" }, Grant = new { Scopes = new[] { "doctor_access" } } });
        var byPlatform = await AdminApi.PostAsync(platform, "organizations/st-marys/rules", rule);

        Assert.Equal(400, refused.Status);
        Assert.Equal(["$.Grant.Scopes[0]"], refused.ErrorPaths);
        Assert.Contains("only a platform admin", refused.Body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(201, existing.Status); // doctor_access is rule-controlled already (the file's rules grant it)
        Assert.Equal(201, byPlatform.Status);
    }

    [Fact]
    public async Task Deleting_an_organization_takes_its_connections_and_SCIM_tokens_with_it()
    {
        await using var env = await StartAsync();
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme" });
        await AdminApi.PostAsync(admin, "organizations/acme/connections", Connection(env.Idp));
        var token = (await AdminApi.PostAsync(admin, "organizations/acme/scim-tokens", new { description = "okta" })).Body["token"]!.GetValue<string>();

        var deleted = await AdminApi.DeleteAsync(admin, "organizations/acme");
        var outcome = await SignInAsync(env, "acme-oidc");
        using var scimHttp = env.Server.CreateClient();
        var scim = new ScimClient(scimHttp, "acme", token);
        var directory = await scim.GetAsync("Users");

        Assert.Equal(204, deleted.Status);
        Assert.Null(outcome.Code);
        Assert.Equal(0, await env.Server.WithDbAsync(db => db.ManagedResources.CountAsync(r => r.OrganizationId == "acme" || r.Id == "acme")));
        Assert.Equal(401, directory.Status);
    }

    private static Task<long> RevisionAsync(BrokeredSignIn env) =>
        env.Server.WithDbAsync(db => db.ConfigurationRevisions.Select(r => r.Revision).SingleAsync());
}
