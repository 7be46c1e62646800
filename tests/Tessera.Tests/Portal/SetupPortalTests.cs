using Microsoft.EntityFrameworkCore;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Portal;

/// <summary>The setup portal end to end in process: a link, an OIDC connection set up and tested by the customer's admin, activation, a user signing in.</summary>
public sealed class SetupPortalTests
{
    private static Task<BrokeredSignIn> StartAsync(TimeProvider? time = null) => BrokeredSignIn.StartAsync(options =>
    {
        AdminApi.AddClients(options);
        options.Organizations.Add(new Tessera.Hosting.OrganizationOptions { Id = "file-org" });
    }, time);

    private static async Task<(BrokeredSignIn Env, HttpClient Admin)> WithAcmeAsync()
    {
        var env = await StartAsync();
        var admin = await AdminApi.PlatformAsync(env.Server);
        Assert.Equal(201, (await AdminApi.PostAsync(admin, "organizations", new { Id = "acme", DisplayName = "Acme Corp", Domains = new[] { "acme.example" } })).Status);
        return (env, admin);
    }

    /// <summary>Adds a generic OIDC connection through the portal's form; its id.</summary>
    private static async Task<string> AddOidcConnectionAsync(PortalVisit visit, FakeUpstreamIdp idp)
    {
        await visit.GetAsync("portal/connections/new/oidc");
        var redirectUri = visit.CopyValue("copy-redirect-uri");
        var id = Html.HiddenValue(visit.Page.Html, "ConnectionId");
        Assert.EndsWith($"/oidc/{id}/callback", redirectUri, StringComparison.Ordinal);
        var saved = await visit.SubmitAsync("portal/connections/new/oidc", new Dictionary<string, string>
        {
            ["ConnectionId"] = id,
            ["Form.DisplayName"] = "Acme sign-in",
            ["Form.Authority"] = idp.Issuer,
            ["Form.ClientId"] = FakeUpstreamIdp.ClientId,
            ["Form.ClientSecret"] = FakeUpstreamIdp.ClientSecret,
        });
        Assert.True(saved.Status == 200, PortalVisit.Text(saved.Html));
        Assert.Contains("id=\"connection-status\" class=\"status status-draft\"", saved.Html, StringComparison.Ordinal);
        return id;
    }

    [Fact]
    public async Task An_admin_sets_up_tests_and_activates_an_OIDC_connection_and_a_user_then_signs_in_through_it()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        using var visit = new PortalVisit(env.Server);
        var opened = await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));
        Assert.Contains("Set up sign-in for Acme Corp", opened.Html, StringComparison.Ordinal);
        var id = await AddOidcConnectionAsync(visit, env.Idp);

        using (var early = env.Server.CreateBrowser())
        {
            var before = await Oauth.AuthorizeAsync(early, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", new Dictionary<string, string?> { ["connection"] = id });
            Assert.Null(before.Code); // a draft signs nobody in
        }

        var tested = await visit.SubmitAsync($"portal/connections/{id}?handler=Test", new Dictionary<string, string>());
        Assert.True(tested.Status == 200, PortalVisit.Text(tested.Html));
        Assert.Contains("id=\"test-outcome\" class=\"success\"", tested.Html, StringComparison.Ordinal);
        Assert.Contains(env.Idp.Person.Email, tested.Html, StringComparison.Ordinal);
        Assert.Equal(0, await env.Server.WithDbAsync(db => db.Users.CountAsync())); // a test signs nobody in
        await visit.GetAsync($"portal/connections/{id}");
        var activated = await visit.SubmitAsync($"portal/connections/{id}?handler=Activate", new Dictionary<string, string>());
        Assert.Contains("status status-active", activated.Html, StringComparison.Ordinal);

        using var user = env.Server.CreateBrowser();
        var outcome = await Oauth.AuthorizeAsync(user, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["login_hint"] = "someone@acme.example" });
        Assert.NotNull(outcome.Code);
        Assert.Equal("acme", (await env.Server.WithDbAsync(db => db.Users.SingleAsync())).OrganizationId);
        var audit = await env.Server.AuditAsync();
        Assert.Contains(audit, a => a.Event == "portal.opened" && a.OrganizationId == "acme");
        Assert.Contains(audit, a => a.Event == "connection.tested" && a.ConnectionId == id && a.Outcome == "success");
        Assert.Contains(audit, a => a.Event == "admin.changed" && a.ConnectionId == id && a.Detail!.Contains("\"by\":\"portal:acme\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Under_an_issuer_with_a_path_the_portal_and_its_test_sign_in_stay_under_that_path()
    {
        await using var env = await BrokeredSignIn.StartAsync(options =>
        {
            AdminApi.AddClients(options);
            options.Issuer = "http://localhost/tenant-a";
        });
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme", DisplayName = "Acme Corp" });
        using var visit = new PortalVisit(env.Server);

        var link = await PortalVisit.SetupLinkAsync(admin, "acme");
        await visit.OpenAsync(link);
        var id = await AddOidcConnectionAsync(visit, env.Idp);
        var tested = await visit.SubmitAsync($"portal/connections/{id}?handler=Test", new Dictionary<string, string>());

        Assert.StartsWith("http://localhost/tenant-a/portal/setup/", link, StringComparison.Ordinal);
        Assert.Contains("id=\"test-outcome\" class=\"success\"", tested.Html, StringComparison.Ordinal);
        Assert.StartsWith("/tenant-a/portal/tests/", visit.Location.AbsolutePath, StringComparison.Ordinal);
        Assert.Contains("/tenant-a/oidc/", env.Idp.LastAuthorizeRequest["redirect_uri"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_issuer_that_does_not_answer_discovery_is_shown_next_to_its_field()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));
        await visit.GetAsync("portal/connections/new/okta-oidc");
        var id = Html.HiddenValue(visit.Page.Html, "ConnectionId");
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0); // a port nobody answers on once stopped
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        var saved = await visit.SubmitAsync("portal/connections/new/okta-oidc", new Dictionary<string, string>
        {
            ["ConnectionId"] = id,
            ["Form.Authority"] = $"http://127.0.0.1:{port}",
            ["Form.ClientId"] = "0oa-acme",
            ["Form.ClientSecret"] = "a-secret-of-sixteen-characters",
        });

        Assert.Equal(200, saved.Status); // saved as a draft regardless
        var problem = System.Text.RegularExpressions.Regex.Match(saved.Html, "<div id=\"Authority-problem\"[^>]*>(.*?)</div>", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(problem.Success, PortalVisit.Text(saved.Html));
        Assert.Contains($"127.0.0.1:{port}", PortalVisit.Text(problem.Groups[1].Value), StringComparison.Ordinal);
        Assert.Contains("aria-describedby=\"authority-help Authority-problem\"", saved.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_SAML_signing_certificate_that_has_expired_is_shown_next_to_its_field()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));
        await visit.GetAsync("portal/connections/new/saml");
        var id = Html.HiddenValue(visit.Page.Html, "ConnectionId");
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=old idp signing", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var expired = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddYears(-3), DateTimeOffset.UtcNow.AddDays(-2));

        var saved = await visit.SubmitAsync("portal/connections/new/saml", new Dictionary<string, string>
        {
            ["ConnectionId"] = id,
            ["Form.EntityId"] = "https://idp.acme.example",
            ["Form.SsoUrl"] = "https://idp.acme.example/sso",
            ["Form.Certificate"] = expired.ExportCertificatePem(),
        });

        Assert.Equal(200, saved.Status);
        var text = PortalVisit.Text(saved.Html);
        Assert.Contains(Tessera.Saml.CertificateFingerprint.Sha256(expired), text, StringComparison.Ordinal);
        Assert.Contains($"expired on {DateTime.UtcNow.AddDays(-2):yyyy-MM-dd}", text, StringComparison.Ordinal);
        Assert.Contains("id=\"Certificate-problem\"", saved.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_test_names_the_check_and_how_to_fix_it_and_activation_waits_for_a_pass()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));
        var id = await AddOidcConnectionAsync(visit, env.Idp);
        env.Idp.ClaimsEditor = claims => claims["aud"] = "someone-else";

        var failed = await visit.SubmitAsync($"portal/connections/{id}?handler=Test", new Dictionary<string, string>());
        await visit.GetAsync($"portal/connections/{id}");
        var refused = await visit.SubmitAsync($"portal/connections/{id}?handler=Activate", new Dictionary<string, string>());

        Assert.Contains("id=\"test-outcome\" class=\"error\"", failed.Html, StringComparison.Ordinal);
        Assert.Contains("data-check=\"audience\"", failed.Html, StringComparison.Ordinal);
        Assert.Contains("someone-else", failed.Html, StringComparison.Ordinal);
        Assert.Contains(FakeUpstreamIdp.ClientId, PortalVisit.Text(failed.Html), StringComparison.Ordinal);
        Assert.Equal(409, refused.Status);
        Assert.Contains("status status-draft", refused.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirect_uri_the_IdP_does_not_know_is_caught_before_the_admin_is_sent_there()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));
        var id = await AddOidcConnectionAsync(visit, env.Idp);
        env.Idp.AllowedRedirectUris = ["https://elsewhere.example/callback"];

        var failed = await visit.SubmitAsync($"portal/connections/{id}?handler=Test", new Dictionary<string, string>());

        Assert.Contains("data-check=\"redirect_uri\"", failed.Html, StringComparison.Ordinal);
        Assert.Contains($"/oidc/{id}/callback", PortalVisit.Text(failed.Html), StringComparison.Ordinal);
        Assert.DoesNotContain(visit.Browser.History, uri => uri.AbsolutePath.EndsWith("/callback", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_setup_link_opens_once_and_a_used_expired_or_revoked_link_says_so()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        var link = await PortalVisit.SetupLinkAsync(admin, "acme");
        using var first = new PortalVisit(env.Server);
        using var second = new PortalVisit(env.Server);

        var scanned = await second.GetAsync(link); // a mail scanner fetching the link uses nothing
        var opened = await first.OpenAsync(link);
        var again = await second.OpenAsync(link);
        var revokedLink = await PortalVisit.SetupLinkAsync(admin, "acme");
        var linkId = (await AdminApi.GetAsync(admin, "organizations/acme/setup-links")).Body["items"]!.AsArray().Last()!["id"]!.GetValue<string>();
        await AdminApi.DeleteAsync(admin, $"organizations/acme/setup-links/{linkId}");
        var revoked = await second.GetAsync(revokedLink);
        var unknown = await second.GetAsync("portal/setup/tsetup_nothing-here-at-all");

        Assert.Equal(200, scanned.Status);
        Assert.Contains("Set up sign-in for Acme Corp", opened.Html, StringComparison.Ordinal);
        Assert.Equal(410, again.Status);
        Assert.Contains("already been used", again.Html, StringComparison.Ordinal);
        Assert.Equal(410, revoked.Status);
        Assert.Contains("withdrawn", revoked.Html, StringComparison.Ordinal);
        Assert.Equal(404, unknown.Status);
        Assert.Contains("not valid", unknown.Html, StringComparison.Ordinal);
        Assert.Equal(1, await env.Server.WithDbAsync(db => db.PortalSessions.CountAsync()));
    }

    [Fact]
    public async Task An_expired_link_and_an_idle_session_end_with_a_clear_page()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var env = await StartAsync(time);
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme" });
        var stale = await PortalVisit.SetupLinkAsync(admin, "acme");
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));

        time.Advance(TimeSpan.FromHours(25));
        var expired = await new PortalVisit(env.Server).GetAsync(stale);
        var idle = await visit.GetAsync("portal");

        Assert.Equal(410, expired.Status);
        Assert.Contains("has expired", expired.Html, StringComparison.Ordinal);
        Assert.EndsWith("/portal/ended", visit.Location.AbsolutePath, StringComparison.Ordinal);
        Assert.Contains("Your setup session has ended", idle.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_portal_session_cannot_read_or_change_another_organization()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        await AdminApi.PostAsync(admin, "organizations", new { Id = "globex" });
        await AdminApi.PostAsync(admin, "organizations/globex/connections", new { Id = "globex-oidc", Protocol = "oidc", Authority = env.Idp.Issuer, ClientId = FakeUpstreamIdp.ClientId, ClientSecret = FakeUpstreamIdp.ClientSecret, status = "draft" });
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));
        var revision = await env.Server.WithDbAsync(db => db.ConfigurationRevisions.Select(r => r.Revision).SingleAsync());

        var read = await visit.GetAsync("portal/connections/globex-oidc");
        await visit.GetAsync("portal");
        var activate = await visit.SubmitAsync("portal/connections/globex-oidc?handler=Activate", new Dictionary<string, string>());
        await visit.GetAsync("portal");
        var test = await visit.SubmitAsync("portal/connections/globex-oidc?handler=Test", new Dictionary<string, string>());
        var fileConnection = await visit.GetAsync($"portal/connections/{TestConfiguration.Connection}");

        Assert.Equal(404, read.Status);
        Assert.Equal(404, activate.Status);
        Assert.Equal(404, test.Status);
        Assert.Equal(404, fileConnection.Status);
        Assert.Equal(revision, await env.Server.WithDbAsync(db => db.ConfigurationRevisions.Select(r => r.Revision).SingleAsync()));
        Assert.Equal(0, await env.Server.WithDbAsync(db => db.ConnectionTests.CountAsync()));
    }

    [Fact]
    public async Task Portal_forms_refuse_a_post_without_the_pages_antiforgery_token()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));

        var forged = await visit.SubmitAsync("portal?handler=AddDomain", new Dictionary<string, string> { ["NewDomain"] = "evil.example" }, withToken: false);

        Assert.Equal(400, forged.Status);
        Assert.DoesNotContain("evil.example", (await AdminApi.GetAsync(admin, "organizations/acme")).Json!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Domains_and_SCIM_are_set_up_in_the_portal_and_the_token_is_shown_once()
    {
        var (env, admin) = await WithAcmeAsync();
        await using var _ = env;
        using var __ = admin;
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));

        var added = await visit.SubmitAsync("portal?handler=AddDomain", new Dictionary<string, string> { ["NewDomain"] = "Acme-Labs.example" });
        var clash = await visit.SubmitAsync("portal?handler=AddDomain", new Dictionary<string, string> { ["NewDomain"] = "stmarys.example" });
        var created = await visit.SubmitAsync("portal?handler=CreateScimToken", new Dictionary<string, string>());
        var token = visit.CopyValue("scim-token");
        var later = await visit.GetAsync("portal");
        using var http = env.Server.CreateClient();
        var scim = await new ScimClient(http, "acme", token).GetAsync("Users");

        Assert.Contains("acme-labs.example", added.Html, StringComparison.Ordinal);
        Assert.Contains("already belongs to organization", clash.Html, StringComparison.Ordinal);
        Assert.Contains("/scim/v2/acme", visit.CopyValue("scim-base-url"), StringComparison.Ordinal);
        Assert.StartsWith("tscim_", token, StringComparison.Ordinal);
        Assert.DoesNotContain(token, later.Html, StringComparison.Ordinal);
        Assert.Equal(200, scim.Status);
        Assert.Equal(200, created.Status);
    }
}

/// <summary>A SAML connection set up in the portal: the wrong certificate first (the test names both fingerprints), then the right one.</summary>
public sealed class SamlSetupPortalTests
{
    [Fact]
    public async Task A_wrong_certificate_fails_the_test_with_both_fingerprints_and_the_right_one_passes()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Tessera.Saml.Tests.Infrastructure.SamlResponseSpec.Now);
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients, time);
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme", Domains = new[] { "acme.example" } });
        using var visit = new PortalVisit(env.Server);
        await visit.OpenAsync(await PortalVisit.SetupLinkAsync(admin, "acme"));
        await visit.GetAsync("portal/connections/new/saml");
        var id = Html.HiddenValue(visit.Page.Html, "ConnectionId");
        var acs = visit.CopyValue("copy-acs-url");
        var entityId = visit.CopyValue("copy-sp-entity-id");
        var wrong = Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider.UnknownCertificate;
        var right = Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider.SigningCertificate;
        var fields = new Dictionary<string, string>
        {
            ["ConnectionId"] = id,
            ["Form.EntityId"] = Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider.EntityId,
            ["Form.SsoUrl"] = "https://idp.stmarys.example/sso",
            ["Form.Certificate"] = wrong.ExportCertificatePem(),
        };
        var saved = await visit.SubmitAsync("portal/connections/new/saml", fields);
        Assert.True(saved.Status == 200, PortalVisit.Text(saved.Html));

        var failed = await TestThroughIdpAsync(visit, id, acs, entityId);
        fields.Remove("ConnectionId");
        fields["Form.Certificate"] = right.ExportCertificatePem();
        await visit.SubmitAsync($"portal/connections/{id}?handler=Save", fields);
        var passed = await TestThroughIdpAsync(visit, id, acs, entityId);

        Assert.True(failed.Html.Contains("data-check=\"signing_certificate\"", StringComparison.Ordinal), PortalVisit.Text(failed.Html));
        Assert.Contains(Tessera.Saml.CertificateFingerprint.Sha256(wrong), failed.Html, StringComparison.Ordinal);
        Assert.Contains(Tessera.Saml.CertificateFingerprint.Sha256(right), failed.Html, StringComparison.Ordinal);
        Assert.Contains("id=\"test-outcome\" class=\"success\"", passed.Html, StringComparison.Ordinal);
        Assert.Contains(new Tessera.Saml.Tests.Infrastructure.SamlResponseSpec().NameIdXml, passed.Html, StringComparison.Ordinal);
    }

    /// <summary>Starts a test, answers the AuthnRequest as the test IdP (signed with its real key), and reads the result page.</summary>
    private static async Task<(int Status, string Html)> TestThroughIdpAsync(PortalVisit visit, string id, string acs, string entityId)
    {
        await visit.GetAsync($"portal/connections/{id}");
        var started = await visit.Browser.PostFormAsync($"portal/connections/{id}?handler=Test",
            new Dictionary<string, string> { ["__RequestVerificationToken"] = Html.HiddenValue(visit.Page.Html, "__RequestVerificationToken") });
        var location = started.Headers.Location!;
        Assert.Equal("idp.stmarys.example", location.Host);
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        var request = new System.Xml.XmlDocument();
        request.LoadXml(Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider.Inflate(query["SAMLRequest"]!));
        var spec = new Tessera.Saml.Tests.Infrastructure.SamlResponseSpec { Destination = acs, Recipient = acs, Audience = entityId, InResponseTo = request.DocumentElement!.GetAttribute("ID") };
        var document = Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider.Build(spec);
        Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider.Sign(Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider.Assertion(document));
        var posted = await visit.Browser.PostFormAsync(acs, new Dictionary<string, string>
        {
            ["SAMLResponse"] = Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider.Encode(document),
            ["RelayState"] = query["RelayState"]!,
        });
        Assert.True((int)posted.StatusCode == 302, await posted.Content.ReadAsStringAsync());
        return await visit.GetAsync(new Uri(new Uri(acs), posted.Headers.Location!).AbsoluteUri);
    }
}
