using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Web;
using System.Xml;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Saml;
using Tessera.Saml.Tests.Infrastructure;
using Tessera.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Tests.Federation;

public sealed class SamlSignInTests
{
    [Fact]
    public async Task Sp_initiated_sign_in_ends_in_tokens_with_mapped_scopes_and_claims()
    {
        await using var host = await SamlSignIn.StartAsync();
        using var browser = host.Browser();

        var (_, tokens) = await host.SignInAsync(browser);

        var access = tokens.AccessToken;
        Assert.Contains("doctor_access", access.GetClaim("scope").Value.Split(' '));
        Assert.Equal("P-123", access.GetClaim("provider_id").Value);
        Assert.Equal("P-123", tokens.IdToken.GetClaim("provider_id").Value);
        Assert.Equal("ana@stmarys.example", tokens.IdToken.GetClaim("email").Value);
        Assert.True(Guid.TryParse(access.Subject, out _), "the subject is an internal UUID, never the NameID");
        var user = await host.Server.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync());
        Assert.Equal(Guid.Parse(access.Subject), user.Id);
        var audit = await host.Server.AuditAsync();
        var succeeded = Assert.Single(audit, a => a.Event == AuditEvents.SignInSucceeded);
        Assert.Equal(SamlSignIn.ConnectionId, succeeded.ConnectionId);
        Assert.Equal(TestConfiguration.Organization, succeeded.OrganizationId);
    }

    [Fact]
    public async Task The_same_persistent_name_id_signs_in_the_same_user_and_another_gets_another()
    {
        await using var host = await SamlSignIn.StartAsync();
        using var first = host.Browser();
        using var second = host.Browser();
        using var third = host.Browser();

        var (_, a) = await host.SignInAsync(first);
        var (_, b) = await host.SignInAsync(second);
        var (_, c) = await host.SignInAsync(third, spec => spec with { NameIdXml = "u-9999" });

        Assert.Equal(a.AccessToken.Subject, b.AccessToken.Subject);
        Assert.NotEqual(a.AccessToken.Subject, c.AccessToken.Subject);
    }

    [Theory]
    [InlineData("assertion")]
    [InlineData("both")]
    [InlineData("encrypted")]
    public async Task Signed_and_encrypted_variants_all_sign_in(string variant)
    {
        await using var host = await SamlSignIn.StartAsync();
        using var browser = host.Browser();

        var (_, tokens) = await host.SignInAsync(browser, sign: document =>
        {
            Sign(Assertion(document));
            if (variant == "both")
            {
                Sign(Response(document));
            }
            else if (variant == "encrypted")
            {
                Encrypt(document);
            }
        });

        Assert.Equal("P-123", tokens.AccessToken.GetClaim("provider_id").Value);
    }

    [Fact]
    public async Task Signed_response_alone_signs_in_only_where_the_connection_allows_it()
    {
        await using var strict = await SamlSignIn.StartAsync();
        await using var loose = await SamlSignIn.StartAsync(connection => connection.RequireSignedAssertions = false);
        static void SignResponse(XmlDocument document) => Sign(Response(document));

        using (var browser = loose.Browser())
        {
            await loose.SignInAsync(browser, sign: SignResponse);
        }

        using var refused = strict.Browser();
        var started = await strict.BeginAsync(refused);
        var document = Build(SamlSignIn.Spec(started.RequestId));
        SignResponse(document);
        var outcome = await strict.PostAsync(refused, Encode(document), started.RelayState);
        Assert.Null(outcome.Code);
        Assert.Contains(SamlRules.SignatureMissing, await outcome.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthnRequest_names_this_connection_and_is_signed_with_the_sp_key()
    {
        await using var host = await SamlSignIn.StartAsync();
        using var browser = host.Browser();

        var started = await host.BeginAsync(browser, new Dictionary<string, string?> { ["prompt"] = "login" });

        var request = started.Request;
        Assert.Equal("AuthnRequest", request.LocalName);
        Assert.Equal("https://idp.stmarys.example/sso", request.GetAttribute("Destination"));
        Assert.Equal(SamlSignIn.AcsUrl, request.GetAttribute("AssertionConsumerServiceURL"));
        Assert.Equal(SamlNames.HttpPostBinding, request.GetAttribute("ProtocolBinding"));
        Assert.Equal("true", request.GetAttribute("ForceAuthn"));
        Assert.Equal(SamlSignIn.SpEntityId, request.GetElementsByTagName("Issuer", SamlNames.Assertion)[0]!.InnerText);
        Assert.StartsWith("_", request.GetAttribute("ID"), StringComparison.Ordinal);

        // SAML Bindings §3.4.4.1: the signature covers the raw query parameters in this order.
        var query = started.IdpUrl.Query.TrimStart('?');
        var signedPart = query[..query.IndexOf("&Signature=", StringComparison.Ordinal)];
        var parameters = HttpUtility.ParseQueryString(query);
        Assert.Equal(SamlNames.RsaSha256, parameters["SigAlg"]);
        using var rsa = SpCertificate.GetRSAPublicKey()!;
        Assert.True(rsa.VerifyData(Encoding.UTF8.GetBytes(signedPart), Convert.FromBase64String(parameters["Signature"]!), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task Sp_metadata_describes_the_connection_for_the_idp_admin()
    {
        await using var host = await SamlSignIn.StartAsync();

        var response = await host.Http.GetAsync($"saml/{SamlSignIn.ConnectionId}/metadata");
        var missing = await host.Http.GetAsync("saml/no-such-connection/metadata");

        Assert.Equal("application/samlmetadata+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var document = new XmlDocument();
        document.LoadXml(await response.Content.ReadAsStringAsync());
        var root = document.DocumentElement!;
        Assert.Equal(SamlSignIn.SpEntityId, root.GetAttribute("entityID"));
        var acs = (XmlElement)root.GetElementsByTagName("AssertionConsumerService", SamlNames.Metadata)[0]!;
        Assert.Equal(SamlSignIn.AcsUrl, acs.GetAttribute("Location"));
        Assert.Equal(SamlNames.HttpPostBinding, acs.GetAttribute("Binding"));
        var keys = root.GetElementsByTagName("KeyDescriptor", SamlNames.Metadata).OfType<XmlElement>().Select(k => k.GetAttribute("use")).ToList();
        Assert.Equal(["signing", "encryption"], keys);
        Assert.Contains(Convert.ToBase64String(SpCertificate.RawData), root.OuterXml, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Refused_response_shows_a_reference_audits_the_rule_and_changes_nothing()
    {
        await using var host = await SamlSignIn.StartAsync();
        using var browser = host.Browser();
        var started = await host.BeginAsync(browser);
        var document = Build(SamlSignIn.Spec(started.RequestId) with { Audience = "https://someone-else.example" });
        Sign(Assertion(document));
        var usersBefore = await host.Server.WithDbAsync(db => db.Users.CountAsync());
        var sessionsBefore = await host.Server.WithDbAsync(db => db.Sessions.CountAsync());

        var outcome = await host.PostAsync(browser, Encode(document), started.RelayState);

        Assert.Null(outcome.Code);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, outcome.Response.StatusCode);
        var page = await outcome.Response.Content.ReadAsStringAsync();
        var reference = System.Text.RegularExpressions.Regex.Match(page, "<code class=\"reference\">([0-9A-F]{12})</code>").Groups[1].Value;
        Assert.NotEmpty(reference);
        var failed = Assert.Single(await host.Server.AuditAsync(), a => a.Event == AuditEvents.SignInFailed);
        Assert.StartsWith(SamlRules.Audience + ":", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(SamlSignIn.ConnectionId, failed.ConnectionId);
        Assert.Equal(TestConfiguration.Organization, failed.OrganizationId);
        Assert.Contains(reference, failed.Detail, StringComparison.Ordinal);
        Assert.Equal(usersBefore, await host.Server.WithDbAsync(db => db.Users.CountAsync()));
        Assert.Equal(sessionsBefore, await host.Server.WithDbAsync(db => db.Sessions.CountAsync()));
        Assert.Null(browser.Cookie(host.Server.Options.Sessions.CookieName));
    }

    [Fact]
    public async Task A_response_answers_its_request_once()
    {
        await using var host = await SamlSignIn.StartAsync();
        using var browser = host.Browser();
        var started = await host.BeginAsync(browser);
        var document = Build(SamlSignIn.Spec(started.RequestId));
        Sign(Assertion(document));
        var first = await host.PostAsync(browser, Encode(document), started.RelayState, started.Verifier);
        Assert.NotNull(first.Code);

        // A second response to the same request (a fresh assertion ID, so not the replay cache): the request is spent.
        var again = Build(SamlSignIn.Spec(started.RequestId));
        Sign(Assertion(again));
        var second = await host.PostAsync(browser, Encode(again), started.RelayState);

        Assert.Null(second.Code);
        Assert.Contains(SamlRules.InResponseTo, await second.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Response_to_another_browsers_request_is_refused()
    {
        await using var host = await SamlSignIn.StartAsync();
        using var victim = host.Browser();
        using var attacker = host.Browser();
        var started = await host.BeginAsync(victim);
        var document = Build(SamlSignIn.Spec(started.RequestId));
        Sign(Assertion(document));

        var outcome = await host.PostAsync(attacker, Encode(document), started.RelayState);

        Assert.Null(outcome.Code);
        Assert.Contains("browser_mismatch", await outcome.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idp_initiated_response_is_refused_by_default()
    {
        await using var host = await SamlSignIn.StartAsync();
        using var browser = host.Browser();

        var outcome = await host.PostAsync(browser, SignedAssertion(SamlSignIn.Spec(requestId: null)), relayState: "https://evil.example/");

        Assert.Null(outcome.Code);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, outcome.Response.StatusCode);
        var failed = Assert.Single(await host.Server.AuditAsync(), a => a.Event == AuditEvents.SignInFailed);
        Assert.StartsWith(SamlRules.Unsolicited + ":", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(0, await host.Server.WithDbAsync(db => db.Users.CountAsync()));
    }

    [Fact]
    public async Task Idp_initiated_response_lands_only_on_the_configured_client_and_is_accepted_once()
    {
        const string LoginUri = "http://127.0.0.1:3000/login";
        await using var host = await SamlSignIn.StartAsync(connection =>
        {
            connection.AllowIdpInitiated = true;
            connection.IdpInitiatedClientId = TestConfiguration.PublicClient;
            connection.IdpInitiatedLoginUri = LoginUri;
        });
        using var browser = host.Browser();
        var value = SignedAssertion(SamlSignIn.Spec(requestId: null));

        var landed = await host.PostAsync(browser, value, relayState: "https://evil.example/");

        Assert.Equal($"{LoginUri}?iss={Uri.EscapeDataString(TesseraTestServer.Issuer + "/")}", landed.Redirect?.AbsoluteUri);
        Assert.NotNull(browser.Cookie(host.Server.Options.Sessions.CookieName));
        // The app then starts an ordinary code flow, which the new SSO session completes without the IdP.
        var (verifier, challenge) = Oauth.Pkce();
        var authorize = await browser.NavigateAsync(
            Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid doctor_access", "s", "n", challenge),
            uri => uri.AbsoluteUri.StartsWith(TestConfiguration.PublicRedirect, StringComparison.Ordinal));
        var code = HttpUtility.ParseQueryString(authorize.StoppedAt!.Query)["code"];
        Assert.NotNull(code);

        using var replayer = host.Browser();
        var replayed = await host.PostAsync(replayer, value, relayState: null);
        Assert.Null(replayed.Redirect);
        Assert.Contains(SamlRules.Replay, await replayed.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        _ = verifier;
    }

    [Fact]
    public async Task Replay_cache_lives_in_the_database_and_survives_a_restart()
    {
        await using var database = await TestDatabase.CreateAsync();
        void IdpInitiated(Tessera.Hosting.ConnectionOptions connection)
        {
            connection.AllowIdpInitiated = true;
            connection.IdpInitiatedClientId = TestConfiguration.PublicClient;
            connection.IdpInitiatedLoginUri = "http://127.0.0.1:3000/login";
        }

        var value = SignedAssertion(SamlSignIn.Spec(requestId: null));
        Tessera.Hosting.KeyOptions keys;
        await using (var first = await SamlSignIn.StartAsync(IdpInitiated, database: database))
        {
            using var browser = first.Browser();
            Assert.NotNull((await first.PostAsync(browser, value, null)).Redirect);
            keys = first.Server.Options.Keys;
        }

        await using var restarted = await SamlSignIn.StartAsync(IdpInitiated, options => options.Keys = keys, database);
        using var again = restarted.Browser();
        var replayed = await restarted.PostAsync(again, value, null);

        Assert.Null(replayed.Redirect);
        Assert.StartsWith(SamlRules.Replay + ":", (await restarted.Server.AuditAsync()).Last(a => a.Event == AuditEvents.SignInFailed).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transient_name_id_needs_a_stable_attribute()
    {
        await using var refusing = await SamlSignIn.StartAsync();
        using var browser = refusing.Browser();
        var started = await refusing.BeginAsync(browser);
        var transient = SignedAssertion(SamlSignIn.Spec(started.RequestId) with { NameIdFormat = SamlNames.NameIdTransient, NameIdXml = "_t" + Guid.NewGuid().ToString("N") });
        var outcome = await refusing.PostAsync(browser, transient, started.RelayState);
        Assert.Null(outcome.Code);
        Assert.Contains("transient_name_id", await outcome.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var keyed = await SamlSignIn.StartAsync(connection => connection.SubjectAttribute = "ProviderID");
        using var one = keyed.Browser();
        using var two = keyed.Browser();
        var (_, a) = await keyed.SignInAsync(one, spec => spec with { NameIdFormat = SamlNames.NameIdTransient, NameIdXml = "_t1" });
        var (_, b) = await keyed.SignInAsync(two, spec => spec with { NameIdFormat = SamlNames.NameIdTransient, NameIdXml = "_t2" });
        Assert.Equal(a.AccessToken.Subject, b.AccessToken.Subject);
    }

    [Fact]
    public async Task Saml_session_end_bounds_the_sso_session_and_every_refresh()
    {
        // An 8-hour SAML session with 1-hour access tokens.
        await using var host = await SamlSignIn.StartAsync(configure: options =>
        {
            options.Tokens.AccessToken = TimeSpan.FromHours(1);
            options.Sessions.IdleTimeout = TimeSpan.FromHours(12);
            options.Sessions.AbsoluteLifetime = TimeSpan.FromHours(24);
        });
        using var browser = host.Browser();
        var (_, tokens) = await host.SignInAsync(browser, spec => spec with { SessionNotOnOrAfter = SamlResponseSpec.Now.AddHours(8) });
        var session = await host.Server.WithDbAsync(db => db.Sessions.AsNoTracking().SingleAsync());
        Assert.Equal(SamlResponseSpec.Now.AddHours(8).UtcDateTime, session.ExpiresAt);

        var refreshToken = tokens["refresh_token"]!;
        for (var hour = 1; hour <= 7; hour++)
        {
            host.Time.Advance(TimeSpan.FromHours(1));
            var refreshed = await Oauth.RefreshAsync(host.Http, TestConfiguration.PublicClient, null, refreshToken);
            Assert.True(refreshed.Status == 200, $"hour {hour}: {refreshed.Json}");
            refreshToken = refreshed["refresh_token"]!;
        }

        host.Time.Advance(TimeSpan.FromHours(1));
        var ended = await Oauth.RefreshAsync(host.Http, TestConfiguration.PublicClient, null, refreshToken);
        Assert.Equal(400, ended.Status);
        Assert.Equal("invalid_grant", ended.Error);
    }
}
