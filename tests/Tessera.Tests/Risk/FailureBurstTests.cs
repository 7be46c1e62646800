using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tessera.Hosting;
using Tessera.Risk;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Risk;

/// <summary>
/// The FailureBurst rule: failed sign-ins, invalid_client answers and SCIM 401s counted per address and per client per
/// minute, across nodes, with a lockout that ends (and doubles when it recurs), refused in each endpoint's own error.
/// </summary>
public sealed class FailureBurstTests
{
    private const string Attacker = "203.0.113.66";
    private const string Bystander = "198.51.100.7";
    private const string Office = "192.0.2.40";

    private static AnomalyRuleOptions Burst(string action = AnomalyActions.Block, int perAddress = 3, int perClient = 0) => new()
    {
        Rule = AnomalyRuleOptions.FailureBurst,
        Action = action,
        MaxFailuresPerAddress = perAddress,
        MaxFailuresPerClient = perClient,
        Lockout = TimeSpan.FromSeconds(30),
    };

    /// <param name="keys">The key options of every node on <paramref name="database"/>: one key-encryption key.</param>
    private static Task<TesseraTestServer> StartAsync(AnomalyRuleOptions rule, FakeTimeProvider time, TestDatabase? database = null, KeyOptions? keys = null) =>
        TesseraTestServer.StartAsync(options =>
        {
            options.Keys = keys ?? options.Keys;
            ScimClient.Configure(options);
            options.Anomaly.Rules = [rule];
            options.Anomaly.ExemptNetworks = [Office + "/32"];
        }, time, database: database, keepDatabase: database is not null);

    private static HttpClient From(TesseraTestServer server, string address) =>
        new(server.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address))) { BaseAddress = server.BaseAddress };

    private static async Task<HttpResponseMessage> ScimAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"scim/v2/{TestConfiguration.Organization}/Users");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> ClientCredentialsAsync(HttpClient http, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestConfiguration.ServiceClient}:{Uri.EscapeDataString(secret)}")));
        return await http.SendAsync(request);
    }

    /// <summary>Asks until <paramref name="send"/> answers <paramref name="status"/> (the lockout reaches the node a moment after the count), or 5 s.</summary>
    private static Task<HttpResponseMessage> UntilAsync(Func<Task<HttpResponseMessage>> send, HttpStatusCode status) =>
        UntilAsync(send, response => response.StatusCode == status);

    private static async Task<HttpResponseMessage> UntilAsync(Func<Task<HttpResponseMessage>> send, Func<HttpResponseMessage, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        var response = await send();
        while (!done(response) && DateTime.UtcNow < deadline)
        {
            response.Dispose();
            await Task.Delay(50);
            response = await send();
        }

        return response;
    }

    [Fact]
    public async Task Scim_401s_from_one_address_lock_it_out_everywhere_but_discovery_until_the_lockout_ends_and_a_second_lockout_lasts_twice_as_long()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(Burst(), time);
        using var attacker = From(server, Attacker);
        using var bystander = From(server, Bystander);

        for (var i = 0; i < 3; i++)
        {
            using var guess = await ScimAsync(attacker, $"guess-{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
        }

        using var locked = await UntilAsync(() => ScimAsync(attacker, ScimClient.StMarysToken), HttpStatusCode.TooManyRequests);
        var scimError = JsonNode.Parse(await locked.Content.ReadAsStringAsync())!;
        using var token = await ClientCredentialsAsync(attacker, TestConfiguration.ServiceSecret);
        var tokenError = JsonNode.Parse(await token.Content.ReadAsStringAsync())!;
        using var discovery = await attacker.GetAsync(".well-known/openid-configuration");
        using var elsewhere = await ScimAsync(bystander, ScimClient.StMarysToken);

        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.InRange(int.Parse(locked.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 30);
        Assert.Equal("application/scim+json", locked.Content.Headers.ContentType!.MediaType);
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", scimError["schemas"]![0]!.GetValue<string>());
        Assert.Equal("429", scimError["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.TooManyRequests, token.StatusCode);
        Assert.Equal("temporarily_unavailable", tokenError["error"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode); // only the guessing address is locked out

        var audit = await server.AuditAsync(rows => rows.Any(r => r.Event == "anomaly.detected"));
        var detected = Assert.Single(audit, a => a.Event == "anomaly.detected");
        Assert.Equal(Attacker, detected.IpAddress);
        foreach (var fact in new[] { "\"rule\":\"FailureBurst\"", "\"action\":\"block\"", "\"counted\":\"address\"", $"\"key\":\"{Attacker}\"", "\"failures\":\"3\"", "\"lockout_seconds\":\"30\"", "\"strike\":\"1\"", "\"last_failure\":\"scim-401\"" })
        {
            Assert.Contains(fact, detected.Detail, StringComparison.Ordinal);
        }

        time.Advance(TimeSpan.FromSeconds(31));
        using var after = await ScimAsync(attacker, ScimClient.StMarysToken);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode); // the lockout ended; the count started afresh

        for (var i = 0; i < 3; i++)
        {
            (await ScimAsync(attacker, $"again-{i}")).Dispose();
        }

        using var again = await UntilAsync(() => ScimAsync(attacker, ScimClient.StMarysToken), HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        audit = await server.AuditAsync(rows => rows.Count(r => r.Event == "anomaly.detected") == 2);
        var second = audit.Where(a => a.Event == "anomaly.detected").Last();
        Assert.Contains("\"lockout_seconds\":\"60\"", second.Detail, StringComparison.Ordinal);
        Assert.Contains("\"strike\":\"2\"", second.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_secrets_lock_the_client_out_so_even_its_right_secret_is_refused_with_invalid_client_until_the_lockout_ends()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(Burst(perAddress: 0, perClient: 3), time);
        using var first = From(server, Attacker);
        using var second = From(server, Bystander);

        for (var i = 0; i < 3; i++)
        {
            using var guess = await ClientCredentialsAsync(i % 2 == 0 ? first : second, $"wrong-secret-{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
        }

        using var refused = await UntilAsync(() => ClientCredentialsAsync(second, TestConfiguration.ServiceSecret), response => response.Headers.RetryAfter is not null);
        var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("invalid_client", body["error"]!.GetValue<string>());
        Assert.Contains("Too many failed authentications", body["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(refused.Headers.RetryAfter);
        var audit = await server.AuditAsync(rows => rows.Any(r => r.Event == "anomaly.detected"));
        var detected = Assert.Single(audit, a => a.Event == "anomaly.detected");
        Assert.Equal(TestConfiguration.ServiceClient, detected.ClientId);
        Assert.Contains("\"counted\":\"client\"", detected.Detail, StringComparison.Ordinal);
        Assert.Contains("\"last_failure\":\"invalid_client\"", detected.Detail, StringComparison.Ordinal);

        // Refusals during the lockout are not failures: when it ends, one more wrong secret does not lock again.
        time.Advance(TimeSpan.FromSeconds(31));
        using var wrong = await ClientCredentialsAsync(first, "wrong-once-more");
        using var right = await ClientCredentialsAsync(second, TestConfiguration.ServiceSecret);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task Wrong_secrets_at_the_verifier_count_audit_and_lock_the_client_out_there_and_at_the_token_endpoint()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TesseraTestServer.StartAsync(options =>
        {
            Tessera.Tests.Credentials.TestVerifierApp.Configure(options);
            options.Anomaly.Rules = [Burst(perAddress: 0, perClient: 3)];
        }, time);
        using var first = From(server, Attacker);
        using var second = From(server, Bystander);
        Task<HttpResponseMessage> AskAsync(HttpClient http, string secret) => http.SendAsync(Tessera.Tests.Credentials.TestVerifierApp.Authenticated(
            "presentations/requests", new() { ["presentation"] = Tessera.Tests.Credentials.TestVerifierApp.Presentation }, secret: secret));

        for (var i = 0; i < 3; i++)
        {
            using var guess = await AskAsync(i % 2 == 0 ? first : second, $"wrong-secret-{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
        }

        using var refused = await UntilAsync(() => AskAsync(second, TestConfiguration.WebSecret), response => response.Headers.RetryAfter is not null);
        var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("invalid_client", body["error"]!.GetValue<string>());
        Assert.Contains("Too many failed authentications", body["error_description"]!.GetValue<string>(), StringComparison.Ordinal);

        // One lockout per client, wherever it authenticates.
        using var token = new HttpRequestMessage(HttpMethod.Post, "token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        token.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestConfiguration.WebClient}:{TestConfiguration.WebSecret}")));
        using var atToken = await second.SendAsync(token);
        Assert.Equal(HttpStatusCode.Unauthorized, atToken.StatusCode);
        Assert.Contains("Too many failed authentications", await atToken.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var audit = await server.AuditAsync(rows => rows.Any(r => r.Event == "anomaly.detected") && rows.Count(r => r.Event == "presentation.refused") >= 4);
        var detected = Assert.Single(audit, a => a.Event == "anomaly.detected");
        Assert.Equal(TestConfiguration.WebClient, detected.ClientId);
        Assert.Contains("\"counted\":\"client\"", detected.Detail, StringComparison.Ordinal);
        var refusals = audit.Where(a => a.Event == "presentation.refused").ToList();
        Assert.All(refusals, a => Assert.Equal((TestConfiguration.WebClient, "invalid_client"), (a.ClientId, a.Reason)));
        Assert.Equal([Attacker, Bystander, Attacker], refusals.Take(3).Select(a => a.IpAddress));

        // The refusals during the lockout were not counted: when it ends, the right secret is let in.
        time.Advance(TimeSpan.FromSeconds(31));
        using var right = await AskAsync(first, TestConfiguration.WebSecret);
        Assert.Equal(HttpStatusCode.Created, right.StatusCode);
    }

    [Fact]
    public async Task Failed_sign_in_callbacks_count_against_the_address()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(Burst(), time);
        using var attacker = From(server, Attacker);

        for (var i = 0; i < 3; i++)
        {
            using var forged = await attacker.GetAsync($"oidc/{TestConfiguration.Connection}/callback?code=forged&state=forged-{i}");
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }

        using var locked = await UntilAsync(() => attacker.GetAsync($"oidc/{TestConfiguration.Connection}/callback?code=x&state=y"), HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Equal("text/html", locked.Content.Headers.ContentType!.MediaType);
        var audit = await server.AuditAsync(rows => rows.Any(r => r.Event == "anomaly.detected"));
        Assert.Contains("\"last_failure\":\"sign-in\"", Assert.Single(audit, a => a.Event == "anomaly.detected").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_log_a_burst_is_audited_once_and_nothing_is_locked_and_an_exempt_network_is_not_counted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(Burst(AnomalyActions.Log), time);
        using var attacker = From(server, Attacker);
        using var office = From(server, Office);

        for (var i = 0; i < 5; i++)
        {
            (await ScimAsync(attacker, $"guess-{i}")).Dispose();
            (await ScimAsync(office, $"typo-{i}")).Dispose();
        }

        var audit = await server.AuditAsync(rows => rows.Any(r => r.Event == "anomaly.detected"));
        await Task.Delay(600); // two more flushes: a second row would be there by now
        audit = await server.AuditAsync();
        using var still = await ScimAsync(attacker, ScimClient.StMarysToken);

        var detected = Assert.Single(audit, a => a.Event == "anomaly.detected");
        Assert.Equal(Attacker, detected.IpAddress);
        Assert.Contains("\"action\":\"log\"", detected.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("locked_until", detected.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task Failures_split_between_two_nodes_add_up_and_the_lockout_holds_on_both()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var database = await TestDatabase.CreateAsync();
        var keys = new KeyOptions { EncryptionKey = Tessera.Keys.KeyEncryptionKey.Generate() };
        await using var a = await StartAsync(Burst(perAddress: 4), time, database, keys);
        await using var b = await StartAsync(Burst(perAddress: 4), time, database, keys);
        using var viaA = From(a, Attacker);
        using var viaB = From(b, Attacker);

        for (var i = 0; i < 2; i++)
        {
            (await ScimAsync(viaA, $"a-{i}")).Dispose();
        }

        await Task.Delay(500); // A's count is in the database before B adds to it
        for (var i = 0; i < 2; i++)
        {
            (await ScimAsync(viaB, $"b-{i}")).Dispose();
        }

        using var onA = await UntilAsync(() => ScimAsync(viaA, ScimClient.StMarysToken), HttpStatusCode.TooManyRequests);
        using var onB = await UntilAsync(() => ScimAsync(viaB, ScimClient.StMarysToken), HttpStatusCode.TooManyRequests);

        Assert.Equal(HttpStatusCode.TooManyRequests, onA.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, onB.StatusCode);
        var audit = await a.AuditAsync(rows => rows.Any(r => r.Event == "anomaly.detected"));
        Assert.Contains("\"failures\":\"4\"", Assert.Single(audit, r => r.Event == "anomaly.detected").Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("203.0.113.9", "address:203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "address:203.0.113.9")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "address:2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "address:2001:db8:1:2::/64")]
    public void An_address_is_counted_as_itself_and_an_IPv6_one_by_its_64_prefix(string address, string key) =>
        Assert.Equal(key, FailureBursts.AddressKey(IPAddress.Parse(address)));
}
