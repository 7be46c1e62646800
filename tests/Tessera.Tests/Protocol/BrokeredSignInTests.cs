using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Protocol;

public sealed class BrokeredSignInTests
{
    [Fact]
    public async Task Sign_in_through_the_upstream_issues_tokens_for_an_internal_user()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();

        var (_, tokens) = await env.SignInAsync(browser);

        var id = tokens.IdToken;
        var access = tokens.AccessToken;
        Assert.True(Guid.TryParse(id.Subject, out _), $"sub should be a UUID, was {id.Subject}");
        Assert.NotEqual(env.Idp.Person.Email, id.Subject);
        Assert.Equal("st-marys", id.GetPayloadValue<string>("org"));
        Assert.Equal(env.Idp.Person.Email, id.GetPayloadValue<string>("email"));
        Assert.Equal("at+jwt", access.Typ);
        Assert.Equal("ES256", access.Alg);
        Assert.Equal(id.Subject, access.Subject);
        Assert.Contains(TestConfiguration.ReportsAudience, access.Audiences);
        Assert.Equal(TestConfiguration.PublicClient, access.GetPayloadValue<string>("client_id"));
        Assert.Equal(id.GetPayloadValue<string>("sid"), access.GetPayloadValue<string>("sid"));
        Assert.Equal("st-marys", access.GetPayloadValue<string>("org"));
        Assert.Contains("doctor_access", access.GetPayloadValue<string>("scope").Split(' '));
        Assert.NotNull(tokens["refresh_token"]);

        var link = await env.Server.WithDbAsync(db => db.ExternalIdentities.SingleAsync());
        Assert.Equal((TestConfiguration.Organization, TestConfiguration.Connection, env.Idp.Person.Subject), (link.OrganizationId, link.ConnectionId, link.Subject));
        Assert.Equal(Guid.Parse(id.Subject), link.UserId);
    }

    [Fact]
    public async Task The_upstream_leg_carries_state_nonce_and_an_S256_code_challenge()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();

        await env.SignInAsync(browser);

        var sent = env.Idp.LastAuthorizeRequest;
        Assert.True(sent["state"].Length >= 43);
        Assert.True(sent["nonce"].Length >= 43);
        Assert.Equal("S256", sent["code_challenge_method"]);
        Assert.Equal(TesseraTestServer.Issuer + "/oidc/stmarys-oidc/callback", sent["redirect_uri"]);
        Assert.Equal("openid email profile", sent["scope"]);
        Assert.Equal(env.Idp.Person.Email, sent["login_hint"]);
    }

    [Fact]
    public async Task A_second_app_in_the_same_browser_signs_in_without_an_upstream_round_trip()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, first) = await env.SignInAsync(browser);
        var upstreamLogins = env.Idp.AuthorizeRequests;

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.WebClient, TestConfiguration.WebRedirect, "openid email");
        var second = await Oauth.RedeemAsync(env.Http, TestConfiguration.WebClient, TestConfiguration.WebSecret, TestConfiguration.WebRedirect, outcome);

        Assert.Equal(upstreamLogins, env.Idp.AuthorizeRequests);
        Assert.Equal(200, second.Status);
        Assert.Equal(first.IdToken.Subject, second.IdToken.Subject);
        Assert.Equal(first.IdToken.GetPayloadValue<string>("sid"), second.IdToken.GetPayloadValue<string>("sid"));
        Assert.Equal("RS256", second.IdToken.Alg); // billing-web is registered for RS256
        Assert.Equal(TestConfiguration.WebClient, second.IdToken.Audiences.Single());
    }

    [Fact]
    public async Task The_same_upstream_subject_keeps_the_same_internal_id_across_sign_ins()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var first = env.Server.CreateBrowser();
        using var second = env.Server.CreateBrowser();

        var (_, one) = await env.SignInAsync(first);
        var (_, two) = await env.SignInAsync(second);

        Assert.Equal(one.IdToken.Subject, two.IdToken.Subject);
        Assert.NotEqual(one.IdToken.GetPayloadValue<string>("sid"), two.IdToken.GetPayloadValue<string>("sid"));
    }

    [Fact]
    public async Task The_same_email_in_two_organizations_is_two_users()
    {
        await using var env = await BrokeredSignIn.StartAsync(options => options.Organizations.Add(new OrganizationOptions
        {
            Id = "general",
            Domains = ["general.example"],
            Connections = [new ConnectionOptions { Id = "general-oidc", Protocol = "oidc", Authority = options.Organizations[0].Connections[0].Authority, ClientId = "tessera", ClientSecret = FakeUpstreamIdp.ClientSecret }],
        }));
        using var first = env.Server.CreateBrowser();
        using var second = env.Server.CreateBrowser();

        var (_, stMarys) = await env.SignInAsync(first, extra: new Dictionary<string, string?> { ["organization"] = "st-marys" });
        var (_, general) = await env.SignInAsync(second, extra: new Dictionary<string, string?> { ["organization"] = "general" });

        Assert.Equal(stMarys.IdToken.GetPayloadValue<string>("email"), general.IdToken.GetPayloadValue<string>("email"));
        Assert.NotEqual(stMarys.IdToken.Subject, general.IdToken.Subject);
        Assert.Equal("general", general.IdToken.GetPayloadValue<string>("org"));
        Assert.Equal(2, await env.Server.WithDbAsync(db => db.Users.CountAsync()));
    }

    [Fact]
    public async Task Without_hints_the_person_is_asked_for_an_email_and_sent_to_their_organization()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (verifier, challenge) = Oauth.Pkce();
        var url = Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", "s1", "n1", challenge);

        var page = await browser.NavigateAsync(url);
        Assert.Equal(HttpStatusCode.OK, page.Response.StatusCode);
        Assert.Contains("/signin", browser.History[^1].AbsolutePath, StringComparison.Ordinal);
        var html = await page.Response.Content.ReadAsStringAsync();

        var posted = await browser.PostFormAsync(browser.History[^1].AbsoluteUri, new Dictionary<string, string>
        {
            ["email"] = "alice@STMARYS.example",
            ["returnUrl"] = QueryHelpers.ParseQuery(browser.History[^1].Query)["returnUrl"]!,
            ["__RequestVerificationToken"] = Html.HiddenValue(html, "__RequestVerificationToken"),
        });
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.StartsWith(env.Idp.Issuer + "/authorize", posted.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);

        var back = await browser.NavigateAsync(posted.Headers.Location!.AbsoluteUri, uri => uri.AbsoluteUri.StartsWith(TestConfiguration.PublicRedirect, StringComparison.Ordinal));
        Assert.Contains("code=", back.StoppedAt!.Query, StringComparison.Ordinal);
        Assert.Contains("state=s1", back.StoppedAt!.Query, StringComparison.Ordinal);
        _ = verifier;
    }

    [Fact]
    public async Task An_unknown_email_domain_asks_again_and_starts_nothing()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, challenge) = Oauth.Pkce();
        var page = await browser.NavigateAsync(Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", "s", "n", challenge));
        var html = await page.Response.Content.ReadAsStringAsync();

        var posted = await browser.PostFormAsync(browser.History[^1].AbsoluteUri, new Dictionary<string, string>
        {
            ["email"] = "mallory@elsewhere.example",
            ["returnUrl"] = QueryHelpers.ParseQuery(browser.History[^1].Query)["returnUrl"]!,
            ["__RequestVerificationToken"] = Html.HiddenValue(html, "__RequestVerificationToken"),
        });

        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Contains("No organization uses that email domain", await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, env.Idp.AuthorizeRequests);
        Assert.Equal(0, await env.Server.WithDbAsync(db => db.PendingLogins.CountAsync()));
    }

    [Theory]
    [InlineData("organization", "st-marys")]
    [InlineData("connection", "stmarys-oidc")]
    [InlineData("login_hint", "alice@stmarys.example")]
    public async Task A_hint_on_the_authorization_request_skips_the_email_question(string parameter, string value)
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { [parameter] = value });

        Assert.NotNull(outcome.Code);
        Assert.DoesNotContain(browser.History, uri => uri.AbsolutePath == "/signin");
    }

    [Fact]
    public async Task An_organization_with_several_connections_lets_the_person_choose()
    {
        await using var env = await BrokeredSignIn.StartAsync(options => options.Organizations[0].Connections.Add(new ConnectionOptions
        {
            Id = "stmarys-backup",
            DisplayName = "Backup IdP",
            Protocol = "oidc",
            Authority = options.Organizations[0].Connections[0].Authority,
            ClientId = FakeUpstreamIdp.ClientId,
            ClientSecret = FakeUpstreamIdp.ClientSecret,
        }));
        using var browser = env.Server.CreateBrowser();
        var (_, challenge) = Oauth.Pkce();

        var page = await browser.NavigateAsync(Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", "s", "n", challenge,
            new Dictionary<string, string?> { ["organization"] = "st-marys" }));
        var html = await page.Response.Content.ReadAsStringAsync();
        Assert.Equal("/signin/choose", browser.History[^1].AbsolutePath);
        Assert.Contains("Backup IdP", html, StringComparison.Ordinal);

        var chosen = await browser.PostFormAsync(browser.History[^1].AbsoluteUri, new Dictionary<string, string>
        {
            ["connection"] = "stmarys-backup",
            ["organization"] = "st-marys",
            ["returnUrl"] = QueryHelpers.ParseQuery(browser.History[^1].Query)["returnUrl"]!,
            ["__RequestVerificationToken"] = Html.HiddenValue(html, "__RequestVerificationToken"),
        });
        Assert.Equal(HttpStatusCode.Redirect, chosen.StatusCode);
        Assert.Contains("/oidc/stmarys-backup/callback", Uri.UnescapeDataString(chosen.Headers.Location!.Query), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_none_without_a_session_answers_login_required_at_the_client()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["prompt"] = "none", ["login_hint"] = "alice@stmarys.example" });

        Assert.Equal("login_required", outcome.Error);
        Assert.Equal(0, env.Idp.AuthorizeRequests);
    }

    [Fact]
    public async Task Prompt_login_goes_back_upstream_even_with_a_session()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        await env.SignInAsync(browser);

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["prompt"] = "login", ["login_hint"] = "alice@stmarys.example" });

        Assert.NotNull(outcome.Code);
        Assert.Equal(2, env.Idp.AuthorizeRequests);
        Assert.Equal("login", env.Idp.LastAuthorizeRequest["prompt"]);
    }

    [Fact]
    public async Task Rules_grant_scopes_only_to_people_they_match()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var doctorBrowser = env.Server.CreateBrowser();
        var (_, doctor) = await env.SignInAsync(doctorBrowser);

        env.Idp.Person = new UpstreamPerson("u-2002", "bob@stmarys.example", "Bob Baker", ["Staff"]) { ExtraClaims = { ["Role"] = "surgeon" } };
        using var clerkBrowser = env.Server.CreateBrowser();
        var (_, clerk) = await env.SignInAsync(clerkBrowser);

        Assert.Contains("doctor_access", doctor.AccessToken.GetPayloadValue<string>("scope").Split(' '));
        Assert.DoesNotContain("doctor_access", clerk.AccessToken.GetPayloadValue<string>("scope").Split(' '));
        Assert.Contains("read:reports", clerk.AccessToken.GetPayloadValue<string>("scope").Split(' '));
        Assert.Equal("surgery", clerk.AccessToken.GetPayloadValue<string>("department"));
        Assert.Equal("surgery", clerk.IdToken.GetPayloadValue<string>("department"));
        Assert.False(doctor.AccessToken.TryGetPayloadValue<string>("department", out _));
    }

    [Fact]
    public async Task Userinfo_answers_with_the_user_record_per_scope()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        using var request = new HttpRequestMessage(HttpMethod.Get, "userinfo");
        request.Headers.Authorization = new("Bearer", tokens["access_token"]);
        using var response = await env.Http.SendAsync(request);
        var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(tokens.IdToken.Subject, json.GetProperty("sub").GetString());
        Assert.Equal("alice@stmarys.example", json.GetProperty("email").GetString());
        Assert.Equal("Alice Adams", json.GetProperty("name").GetString());
        Assert.Equal("st-marys", json.GetProperty("org").GetString());
    }

    [Fact]
    public async Task A_client_gets_only_scopes_it_is_registered_for()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid write:orders",
            new Dictionary<string, string?> { ["login_hint"] = "alice@stmarys.example" });

        Assert.True("invalid_scope" == outcome.Error, $"{outcome.Redirect} {(int)outcome.Response.StatusCode} {await outcome.Response.Content.ReadAsStringAsync()}");
        Assert.Equal(0, env.Idp.AuthorizeRequests);
    }

    [Fact]
    public async Task Sign_in_events_are_audited_with_user_connection_and_client()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        var audit = await env.Server.AuditAsync();
        var started = Assert.Single(audit, a => a.Event == "signin.started");
        var succeeded = Assert.Single(audit, a => a.Event == "signin.succeeded");
        var granted = Assert.Single(audit, a => a.Event == "authorization.granted");
        Assert.Equal(TestConfiguration.Connection, started.ConnectionId);
        Assert.Equal(tokens.IdToken.Subject, succeeded.UserId);
        Assert.Equal(TestConfiguration.Organization, succeeded.OrganizationId);
        Assert.Equal("TesseraTests/1.0", succeeded.UserAgent);
        Assert.Equal(TestConfiguration.PublicClient, granted.ClientId);
        Assert.Contains(audit, a => a.Event == "token.issued" && a.ClientId == TestConfiguration.PublicClient);
    }
}
