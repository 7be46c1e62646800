using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Tessera.Hosting;
using Tessera.Risk;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Risk;

/// <summary>
/// Anomaly detection at sign-in, end to end: sign-ins arrive through a trusted proxy naming the client's address,
/// a fake GeoIP locator places them, and each rule's action is what the user, the applications and the audit log see.
/// </summary>
public sealed class AnomalyDetectionTests
{
    private const string Proxy = "10.1.2.3";
    private const string London = "203.0.113.10";
    private const string London2 = "203.0.113.11";
    private const string NewYork = "198.51.100.20";
    private const string Office = "192.0.2.30";

    private static readonly Dictionary<string, GeoLocation> Places = new()
    {
        [London] = new("GB", "London", 51.5072, -0.1276),
        [London2] = new("GB", "London", 51.5072, -0.1276),
        [NewYork] = new("US", "New York", 40.7128, -74.0060),
        [Office] = new("US", "Chicago", 41.8781, -87.6298),
    };

    /// <summary>Places the test's addresses; knows no others.</summary>
    private sealed class FakeLocator : IGeoLocator
    {
        public GeoLocation? Locate(IPAddress address) => Places.GetValueOrDefault(address.ToString());
    }

    private static Task<BrokeredSignIn> StartAsync(string rule, string action, FakeTimeProvider? time = null, Action<TesseraOptions>? more = null) =>
        BrokeredSignIn.StartAsync(options =>
        {
            options.Network.TrustedProxies = ["10.0.0.0/8"];
            options.Anomaly.Rules = [new AnomalyRuleOptions { Rule = rule, Action = action }];
            more?.Invoke(options);
        }, time, services => services.Replace(ServiceDescriptor.Singleton<IGeoLocator>(new FakeLocator())));

    /// <summary>A browser behind the trusted proxy, which names <paramref name="client"/> as the client.</summary>
    private static Browser From(BrokeredSignIn env, string client, string peer = Proxy)
    {
        var browser = env.Server.CreateBrowser(context => context.Connection.RemoteIpAddress = IPAddress.Parse(peer));
        browser.TesseraHeaders["X-Forwarded-For"] = client;
        return browser;
    }

    private static async Task<AuthorizationOutcome> TrySignInAsync(BrokeredSignIn env, Browser browser) =>
        await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid email offline_access",
            new Dictionary<string, string?> { ["login_hint"] = env.Idp.Person.Email });

    [Fact]
    public async Task Two_countries_within_ten_minutes_with_revoke_ends_every_session_and_refuses_the_second_sign_in()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TwoCountries, AnomalyActions.Revoke);
        using var home = From(env, London);
        var (_, first) = await env.SignInAsync(home, "openid email offline_access");
        using var abroad = From(env, NewYork);

        var second = await TrySignInAsync(env, abroad);
        var page = await second.Response.Content.ReadAsStringAsync();
        var refresh = await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, first["refresh_token"]!);

        Assert.Null(second.Code);
        Assert.Equal(400, (int)second.Response.StatusCode);
        Assert.Contains("sign_in_blocked", page, StringComparison.Ordinal);
        Assert.Equal("invalid_grant", refresh.Error); // the first session ended with the detection
        var audit = await env.Server.AuditAsync();
        var detected = Assert.Single(audit, a => a.Event == "anomaly.detected");
        Assert.Equal(NewYork, detected.IpAddress);
        foreach (var fact in new[] { "\"rule\":\"TwoCountries\"", "\"action\":\"revoke\"", "\"previous_country\":\"GB\"", "\"country\":\"US\"", $"\"previous_address\":\"{London}\"", "\"distance_km\":\"557" })
        {
            Assert.Contains(fact, detected.Detail, StringComparison.Ordinal);
        }

        var reference = System.Text.RegularExpressions.Regex.Match(detected.Detail!, "\"reference\":\"([0-9A-F]{12})\"").Groups[1].Value;
        Assert.Contains(reference, page, StringComparison.Ordinal); // the page's support reference finds the audit row
        var signals = await env.Server.WithDbAsync(db => db.SignalEvents.AsNoTracking().ToListAsync());
        Assert.Contains(signals, s => s.Type == "session-revoked" && s.InitiatingEntity == "policy");
        Assert.Contains(signals, s => s.Type == "risk-level-change" && s.InitiatingEntity == "policy");
    }

    [Fact]
    public async Task Impossible_travel_blocks_a_sign_in_an_hour_after_London_from_New_York_but_not_a_flights_time_later()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var env = await StartAsync(AnomalyRuleOptions.ImpossibleTravel, AnomalyActions.Block, time);
        using (var home = From(env, London))
        {
            await env.SignInAsync(home, "openid email");
        }

        time.Advance(TimeSpan.FromHours(1));
        using var tooSoon = From(env, NewYork);
        var blocked = await TrySignInAsync(env, tooSoon);
        time.Advance(TimeSpan.FromHours(10));
        using var later = From(env, NewYork);
        var allowed = await TrySignInAsync(env, later);

        Assert.Null(blocked.Code);
        Assert.Contains("sign_in_blocked", await blocked.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotNull(allowed.Code); // New York is where the last sign-in was, so nothing travelled
        var detected = Assert.Single(await env.Server.AuditAsync(), a => a.Event == "anomaly.detected");
        Assert.Contains("\"speed_kmh\":\"557", detected.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_challenge_sends_the_person_back_to_their_identity_provider_to_sign_in_again_and_then_lets_them_in()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TwoCountries, AnomalyActions.Challenge);
        using (var home = From(env, London))
        {
            await env.SignInAsync(home, "openid email");
        }

        using var abroad = From(env, NewYork);
        var before = env.Idp.AuthorizeRequests;
        var outcome = await TrySignInAsync(env, abroad);

        Assert.NotNull(outcome.Code);
        Assert.Equal(before + 2, env.Idp.AuthorizeRequests); // the sign-in, and the fresh one the challenge asked for
        Assert.Equal("login", env.Idp.LastAuthorizeRequest["prompt"]);
        var detected = Assert.Single(await env.Server.AuditAsync(), a => a.Event == "anomaly.detected" && a.Reason!.Contains("passed", StringComparison.Ordinal));
        Assert.Contains("\"taken\":\"challenge\"", detected.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disable_disables_the_account_as_deprovisioning_would()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TwoCountries, AnomalyActions.Disable);
        using (var home = From(env, London))
        {
            await env.SignInAsync(home, "openid email");
        }

        using var abroad = From(env, NewYork);
        var outcome = await TrySignInAsync(env, abroad);

        Assert.Null(outcome.Code);
        var user = await env.Server.WithDbAsync(db => db.Users.SingleAsync());
        Assert.NotNull(user.DisabledAt);
        Assert.True(await env.Server.WithDbAsync(db => db.SignalEvents.AnyAsync(s => s.Type == "account-disabled" && s.InitiatingEntity == "policy")));
    }

    [Fact]
    public async Task Notify_lets_the_sign_in_through_and_tells_the_receivers()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.NewCountry, AnomalyActions.Notify, more: options =>
            options.Signals.Receivers.Add(new SignalReceiverOptions { Id = "siem", Delivery = SignalReceiverOptions.Poll, Authorization = "Bearer siem-poll-secret-0123456789" }));
        using (var home = From(env, London))
        {
            await env.SignInAsync(home, "openid email");
        }

        using var abroad = From(env, NewYork);
        var outcome = await TrySignInAsync(env, abroad);

        Assert.NotNull(outcome.Code);
        var signal = await env.Server.WithDbAsync(db => db.SignalEvents.AsNoTracking().SingleAsync(s => s.Type == "risk-level-change"));
        Assert.Equal("anomaly: NewCountry", signal.Reason);
        Assert.True(await env.Server.WithDbAsync(db => db.SignalDeliveries.AnyAsync(d => d.EventId == signal.Id && d.Destination == "siem")));
    }

    [Fact]
    public async Task The_same_city_twice_or_an_exempt_office_network_raises_nothing()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TwoCountries, AnomalyActions.Block, more: options =>
            options.Organizations[0].Anomaly.ExemptNetworks = [Office + "/32"]);
        foreach (var client in new[] { London, London2, Office })
        {
            using var browser = From(env, client);
            Assert.NotNull((await TrySignInAsync(env, browser)).Code);
        }

        Assert.DoesNotContain(await env.Server.AuditAsync(), a => a.Event == "anomaly.detected");
    }

    [Fact]
    public async Task X_Forwarded_For_from_a_peer_that_is_not_a_trusted_proxy_is_not_believed()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TwoCountries, AnomalyActions.Block);
        using (var home = From(env, London))
        {
            await env.SignInAsync(home, "openid email");
        }

        // A client that claims, itself, to be forwarded from New York: its own address is what counts.
        using var liar = From(env, NewYork, peer: London2);
        var outcome = await TrySignInAsync(env, liar);

        Assert.NotNull(outcome.Code);
        Assert.DoesNotContain(await env.Server.AuditAsync(), a => a.Event == "anomaly.detected");
        Assert.Contains(await env.Server.AuditAsync(), a => a.Event == "signin.succeeded" && a.IpAddress == London2);
    }

    [Fact]
    public async Task With_ForwardedHeader_Forwarded_the_proxies_RFC_7239_header_names_the_client_and_an_X_Forwarded_For_sent_through_is_ignored()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TwoCountries, AnomalyActions.Block, more: options => options.Network.ForwardedHeader = NetworkOptions.Forwarded);
        using (var home = From(env, NewYork))
        {
            // The client's own X-Forwarded-For (New York) went through; the proxy named it in Forwarded (London).
            home.TesseraHeaders["Forwarded"] = $"for=\"{London}:51234\";proto=https, for={Proxy}";
            await env.SignInAsync(home, "openid email");
        }

        using var abroad = From(env, London2);
        abroad.TesseraHeaders["Forwarded"] = $"for={NewYork}";
        var outcome = await TrySignInAsync(env, abroad);

        Assert.Null(outcome.Code);
        var audit = await env.Server.AuditAsync();
        Assert.Contains(audit, a => a.Event == "signin.succeeded" && a.IpAddress == London);
        var detected = Assert.Single(audit, a => a.Event == "anomaly.detected");
        Assert.Equal(NewYork, detected.IpAddress);
    }

    [Theory]
    [InlineData("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60")]
    [InlineData("For=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17")]
    [InlineData("for=192.0.2.43, for=198.51.100.17", "192.0.2.43, 198.51.100.17")]
    [InlineData("for=\"192.0.2.43:47011\", for=_hidden", "192.0.2.43, unknown")]
    [InlineData("for=unknown, for=198.51.100.17", "unknown, 198.51.100.17")]
    [InlineData("proto=https;by=10.0.0.1", "unknown")]
    [InlineData("for=\"[2001:db8::1]", "unknown")]
    [InlineData("for=2001:db8::1", "unknown")]
    [InlineData("for=\"a,b\";by=x, for=198.51.100.17", "unknown, 198.51.100.17")]
    [InlineData("for=999.1.1.1", "unknown")]
    public void The_Forwarded_headers_for_nodes_become_the_list_the_middleware_walks(string forwarded, string expected) =>
        Assert.Equal(expected, ForwardedHeader.ToForwardedFor(forwarded));

    [Fact]
    public async Task A_trusted_edges_country_header_places_the_sign_in()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TwoCountries, AnomalyActions.Block, more: options => options.Anomaly.GeoHeaders.Country = "CF-IPCountry");
        using (var home = From(env, London))
        {
            await env.SignInAsync(home, "openid email");
        }

        using var abroad = From(env, London2); // the database says London; the edge says Germany
        abroad.TesseraHeaders["CF-IPCountry"] = "DE";
        var outcome = await TrySignInAsync(env, abroad);

        Assert.Null(outcome.Code);
        Assert.Contains("\"country\":\"DE\"", Assert.Single(await env.Server.AuditAsync(), a => a.Event == "anomaly.detected").Detail, StringComparison.Ordinal);
    }

    /// <summary>A back-channel client (an application's server) behind the trusted proxy, which names <paramref name="client"/>.</summary>
    private static HttpClient TokenClient(BrokeredSignIn env, string client)
    {
        var http = new HttpClient(env.Server.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(Proxy)))
        {
            BaseAddress = env.Server.BaseAddress,
        };
        http.DefaultRequestHeaders.Add("X-Forwarded-For", client);
        return http;
    }

    [Fact]
    public async Task A_refresh_token_used_from_another_country_than_its_sign_in_is_refused_and_with_revoke_ends_the_session()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TokenUsedElsewhere, AnomalyActions.Revoke);
        using var home = From(env, London);
        var (_, tokens) = await env.SignInAsync(home, "openid email offline_access");
        using var atHome = TokenClient(env, London2);
        using var abroad = TokenClient(env, NewYork);

        var refreshedAtHome = await Oauth.RefreshAsync(atHome, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);
        var refusedAbroad = await Oauth.RefreshAsync(abroad, TestConfiguration.PublicClient, null, refreshedAtHome["refresh_token"]!);
        var afterwards = await Oauth.RefreshAsync(atHome, TestConfiguration.PublicClient, null, refreshedAtHome["refresh_token"]!);

        Assert.Equal(200, refreshedAtHome.Status);
        Assert.Equal("invalid_grant", refusedAbroad.Error);
        Assert.Matches("reference [0-9A-F]{12}", refusedAbroad["error_description"]);
        Assert.Equal("invalid_grant", afterwards.Error); // the session ended with the detection
        var detected = Assert.Single(await env.Server.AuditAsync(), a => a.Event == "anomaly.detected");
        foreach (var fact in new[] { "\"rule\":\"TokenUsedElsewhere\"", "\"request\":\"refresh\"", "\"previous_country\":\"GB\"", "\"country\":\"US\"", $"\"previous_address\":\"{London}\"" })
        {
            Assert.Contains(fact, detected.Detail, StringComparison.Ordinal);
        }

        Assert.True(await env.Server.WithDbAsync(db => db.Sessions.AllAsync(s => s.EndedAt != null)));
    }

    [Fact]
    public async Task A_refresh_from_a_second_country_within_the_window_is_blocked_but_the_session_stays()
    {
        await using var env = await StartAsync(AnomalyRuleOptions.TwoCountries, AnomalyActions.Block);
        using var home = From(env, London);
        var (_, tokens) = await env.SignInAsync(home, "openid email offline_access");
        using var abroad = TokenClient(env, NewYork);
        using var atHome = TokenClient(env, London);

        var blocked = await Oauth.RefreshAsync(abroad, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);
        var stillFine = await Oauth.RefreshAsync(atHome, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);

        Assert.Equal("invalid_grant", blocked.Error);
        Assert.Equal(200, stillFine.Status); // block refuses the request; only revoke ends what was granted
        Assert.Contains(await env.Server.AuditAsync(), a => a.Event == "token.refused" && a.Reason!.StartsWith("invalid_grant", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_organization_admin_cannot_change_its_organizations_anomaly_rules()
    {
        var globexSecret = Tessera.Protocol.ClientSecretHasher.Generate();
        await using var env = await BrokeredSignIn.StartAsync(options =>
        {
            AdminApi.AddClients(options);
            options.Clients.Add(new ClientOptions
            {
                ClientId = "globex-admin",
                Type = "confidential",
                ClientSecret = globexSecret,
                GrantTypes = ["client_credentials"],
                Scopes = ["tessera:admin:org:globex"],
            });
        });
        using var platform = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(platform, "organizations", new { Id = "globex", Anomaly = new { Rules = new[] { new { Rule = "TwoCountries", Action = "block" } } } });
        using var organizationAdmin = await AdminApi.ClientAsync(env.Server, "globex-admin", globexSecret);

        var loosened = await AdminApi.PutAsync(organizationAdmin, "organizations/globex", new { Id = "globex", Anomaly = new { Rules = new[] { new { Rule = "TwoCountries", Action = "log" } } } });
        var renamed = await AdminApi.PutAsync(organizationAdmin, "organizations/globex", new { Id = "globex", DisplayName = "Globex" });
        var after = await AdminApi.GetAsync(platform, "organizations/globex");

        Assert.Equal(400, loosened.Status);
        Assert.Equal(["$.Anomaly"], loosened.ErrorPaths);
        Assert.Equal(200, renamed.Status); // leaving the rules out keeps them
        Assert.Equal("Globex", after.Body["DisplayName"]!.GetValue<string>());
        Assert.Equal("block", after.Body["Anomaly"]!["Rules"]![0]!["Action"]!.GetValue<string>());
    }
}
