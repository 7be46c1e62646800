using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Signals;

/// <summary>Security Event Tokens (RFC 8417) with CAEP and RISC events, pushed (RFC 8935) and polled (RFC 8936).</summary>
public sealed class SecurityEventTokenTests
{
    public const string SessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
    public const string AccountDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
    public const string AccountEnabled = "https://schemas.openid.net/secevent/risc/event-type/account-enabled";

    public static JsonElement SubjectId(JsonWebToken set) => JsonDocument.Parse(set.GetClaim("sub_id").Value).RootElement;

    public static string EventType(JsonWebToken set) => JsonDocument.Parse(set.GetClaim("events").Value).RootElement.EnumerateObject().Single().Name;

    public static JsonElement Event(JsonWebToken set, string type) => JsonDocument.Parse(set.GetClaim("events").Value).RootElement.GetProperty(type);

    [Fact]
    public async Task Deactivation_pushes_session_revoked_and_account_disabled_to_the_receiver()
    {
        await using var x = await SignalArrangement.StartAsync();
        using var browser = x.Server.CreateBrowser();
        var (userId, sid, _, _) = await x.SignInToBothAppsAsync(browser);
        var scim = x.Scim();
        var id = await x.ProvisionAsync(scim);

        await x.SetActiveAsync(scim, id, active: false);

        var received = await x.Api.WaitForAsync(2);
        foreach (var push in received)
        {
            Assert.Equal("application/secevent+jwt", push.ContentType);
            Assert.Equal(SignalArrangement.ApiAuthorization, push.Authorization);
            var set = await SignalReceiver.VerifyAsync(x.Server, push, TestConfiguration.ReportsAudience, "secevent+jwt");
            Assert.NotNull(set);
            Assert.Equal("ES256", set.Alg);
            Assert.False(set.TryGetPayloadValue<string>("exp", out _));
            var subject = SubjectId(set);
            Assert.Equal("complex", subject.GetProperty("format").GetString());
            Assert.Equal("iss_sub", subject.GetProperty("user").GetProperty("format").GetString());
            Assert.Equal(await x.Server.DiscoveredIssuerAsync(), subject.GetProperty("user").GetProperty("iss").GetString());
            Assert.Equal(userId, subject.GetProperty("user").GetProperty("sub").GetString());
            Assert.Equal(TestConfiguration.Organization, subject.GetProperty("tenant").GetProperty("id").GetString());
            Assert.True(set.TryGetPayloadValue<long>("toe", out var toe) && toe > 0);
        }

        var revoked = received.Single(r => EventType(r.Jwt) == SessionRevoked).Jwt;
        Assert.Equal(sid, SubjectId(revoked).GetProperty("session").GetProperty("id").GetString());
        var payload = Event(revoked, SessionRevoked);
        Assert.Equal("admin", payload.GetProperty("initiating_entity").GetString());
        Assert.Equal("deactivated by SCIM", payload.GetProperty("reason_admin").GetProperty("en").GetString());
        Assert.True(payload.GetProperty("event_timestamp").GetInt64() > 0);

        var disabled = received.Single(r => EventType(r.Jwt) == AccountDisabled).Jwt;
        Assert.False(SubjectId(disabled).TryGetProperty("session", out _));
        Assert.Equal(2, received.Select(r => r.Jwt.Id).Distinct().Count());
    }

    [Fact]
    public async Task Reactivation_pushes_account_enabled()
    {
        await using var x = await SignalArrangement.StartAsync();
        var scim = x.Scim();
        var id = await x.ProvisionAsync(scim);
        await x.SetActiveAsync(scim, id, active: false);
        await x.SetActiveAsync(scim, id, active: true);

        var received = await x.Api.WaitForAsync(2);
        Assert.Equal([AccountDisabled, AccountEnabled], received.Select(r => EventType(r.Jwt)));
        Assert.All(received, r => Assert.Equal(id, SubjectId(r.Jwt).GetProperty("user").GetProperty("sub").GetString()));
    }

    [Fact]
    public async Task A_poll_receiver_gets_its_SETs_until_it_acknowledges_them()
    {
        await using var x = await SignalArrangement.StartAsync();
        var scim = x.Scim();
        var id = await x.ProvisionAsync(scim);
        await x.SetActiveAsync(scim, id, active: false);
        await x.SetActiveAsync(scim, id, active: true);

        var first = await PollAsync(x, new { maxEvents = 1, returnImmediately = true });
        Assert.Equal(200, (int)first.Status);
        var (jti, set) = Assert.Single(first.Sets);
        Assert.True(first.More);
        var verified = await SignalReceiver.VerifyAsync(x.Server, new SignalReceiver.Received("", null, set, set, new JsonWebToken(set)), SignalArrangement.PollReceiver, "secevent+jwt");
        Assert.NotNull(verified);
        Assert.Equal(jti, verified.Id);
        Assert.Equal(AccountDisabled, EventType(verified));

        // Not acknowledged: handed out again, the same jti.
        var again = await PollAsync(x, new { returnImmediately = true });
        Assert.Equal([jti, .. again.Sets.Keys.Except([jti])], again.Sets.Keys);
        Assert.Equal(2, again.Sets.Count);

        var acknowledged = await PollAsync(x, new { ack = again.Sets.Keys.ToArray(), returnImmediately = true });
        Assert.Empty(acknowledged.Sets);
        Assert.False(acknowledged.More);
        var outcomes = await x.Server.WithDbAsync(db => db.SignalDeliveries.Where(d => d.Channel == "poll").Select(d => d.Outcome).ToListAsync());
        Assert.Equal(["delivered", "delivered"], outcomes);
    }

    [Fact]
    public async Task A_long_poll_answers_as_soon_as_a_signal_is_committed()
    {
        await using var x = await SignalArrangement.StartAsync();
        var scim = x.Scim();
        var id = await x.ProvisionAsync(scim);

        var poll = PollAsync(x, new { maxEvents = 10 });
        await Task.Delay(300);
        Assert.False(poll.IsCompleted);
        await x.SetActiveAsync(scim, id, active: false);

        var answer = await poll.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Single(answer.Sets);
    }

    public static TheoryData<string, string?, string, int, string> HostilePolls => new()
    {
        { "an unknown receiver", SignalArrangement.PollAuthorization, "nobody", 401, "authentication_failed" },
        { "a push receiver pretending to poll", SignalArrangement.ApiAuthorization, SignalArrangement.ApiReceiver, 401, "authentication_failed" },
        { "no Authorization header", null, SignalArrangement.PollReceiver, 401, "authentication_failed" },
        { "another receiver's credentials", SignalArrangement.ApiAuthorization, SignalArrangement.PollReceiver, 401, "authentication_failed" },
        { "malformed JSON", SignalArrangement.PollAuthorization, SignalArrangement.PollReceiver, 400, "invalid_request" },
    };

    [Theory]
    [MemberData(nameof(HostilePolls))]
    public async Task Polls_by_strangers_and_malformed_polls_are_refused_and_acknowledge_nothing(string attack, string? authorization, string receiver, int status, string error)
    {
        await using var x = await SignalArrangement.StartAsync();
        var scim = x.Scim();
        var id = await x.ProvisionAsync(scim);
        await x.SetActiveAsync(scim, id, active: false);
        var pending = await PollAsync(x, new { returnImmediately = true });
        var jti = Assert.Single(pending.Sets).Key;

        using var request = new HttpRequestMessage(HttpMethod.Post, $"signals/poll/{receiver}")
        {
            Content = new StringContent(attack == "malformed JSON" ? "{\"ack\": [" : JsonSerializer.Serialize(new { ack = new[] { jti } }), System.Text.Encoding.UTF8, "application/json"),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await x.Http.SendAsync(request);
        Assert.Equal(status, (int)response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(error, body.RootElement.GetProperty("err").GetString());
        Assert.Equal(jti, Assert.Single((await PollAsync(x, new { returnImmediately = true })).Sets).Key);
    }

    [Fact]
    public async Task Transmitter_metadata_names_the_issuer_its_keys_and_both_delivery_methods()
    {
        await using var x = await SignalArrangement.StartAsync();
        using var metadata = JsonDocument.Parse(await x.Http.GetStringAsync(".well-known/ssf-configuration"));
        Assert.Equal(await x.Server.DiscoveredIssuerAsync(), metadata.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"], metadata.RootElement.GetProperty("delivery_methods_supported").EnumerateArray().Select(e => e.GetString()));
        var jwks = metadata.RootElement.GetProperty("jwks_uri").GetString()!;
        Assert.Equal(200, (int)(await x.Http.GetAsync(new Uri(jwks).PathAndQuery.TrimStart('/'))).StatusCode);
    }

    private sealed record PollAnswer(int Status, IReadOnlyDictionary<string, string> Sets, bool More);

    private static async Task<PollAnswer> PollAsync(SignalArrangement x, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"signals/poll/{SignalArrangement.PollReceiver}") { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Authorization", SignalArrangement.PollAuthorization);
        using var response = await x.Http.SendAsync(request);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var sets = json.GetProperty("sets").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        return new PollAnswer((int)response.StatusCode, sets, json.GetProperty("moreAvailable").GetBoolean());
    }
}
