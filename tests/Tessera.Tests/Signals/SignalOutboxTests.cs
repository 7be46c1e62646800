using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Signals;

/// <summary>
/// The outbox: signals are stored with the change that causes them, survive restarts and receivers that are down, and
/// reach each receiver that acknowledges them exactly once, in the order they happened.
/// </summary>
public sealed class SignalOutboxTests
{
    private const string ApiAuthorization = "Bearer api-signals-0123456789";

    private static Action<TesseraOptions> Receiver(SignalReceiver api) => options =>
    {
        ScimClient.Configure(options);
        options.Signals.Receivers.Add(new SignalReceiverOptions { Id = "api", Endpoint = api.Url, Authorization = ApiAuthorization, Audience = "https://api.example" });
        options.Signals.PollInterval = TimeSpan.FromMilliseconds(200);
        options.Signals.DeliveryTimeout = TimeSpan.FromSeconds(2);
    };

    /// <summary>Provisions <paramref name="count"/> users and deactivates each: one account-disabled signal per user, in order.</summary>
    private static async Task<List<string>> DeactivateUsersAsync(TesseraTestServer server, int count, string prefix = "user")
    {
        using var http = server.CreateClient();
        var scim = new ScimClient(http, TestConfiguration.Organization, ScimClient.StMarysToken);
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var created = await scim.PostAsync("Users", ScimClient.User($"{prefix}{i}@stmarys.example"));
            Assert.Equal(201, created.Status);
            Assert.Equal(200, (await scim.PatchAsync($"Users/{created.Id}", ScimClient.Patch(ScimClient.Op("replace", "active", false)))).Status);
            ids.Add(created.Id);
        }

        return ids;
    }

    private static string Subject(SignalReceiver.Received received) =>
        SecurityEventTokenTests.SubjectId(received.Jwt).GetProperty("user").GetProperty("sub").GetString()!;

    [Fact]
    public async Task A_deactivation_answers_with_its_signals_already_stored_one_event_per_session()
    {
        await using var x = await SignalArrangement.StartAsync();
        x.Reports.Hang = new TaskCompletionSource(); // nothing is acknowledged while we look
        x.Billing.Hang = x.Reports.Hang;
        x.Api.Hang = x.Reports.Hang;
        using var browser = x.Server.CreateBrowser();
        var (userId, sid, _, _) = await x.SignInToBothAppsAsync(browser);
        var scim = x.Scim();
        var id = await x.ProvisionAsync(scim);

        await x.SetActiveAsync(scim, id, active: false);

        var stored = await x.Server.WithDbAsync(async db => (
            Events: await db.SignalEvents.Where(e => e.UserId == Guid.Parse(userId)).OrderBy(e => e.Id).ToListAsync(),
            Deliveries: await db.SignalDeliveries.Include(d => d.Event).Where(d => d.Event!.UserId == Guid.Parse(userId)).ToListAsync()));
        Assert.Equal(["session-revoked", "account-disabled"], stored.Events.Select(e => e.Type));
        Assert.Equal(sid, stored.Events[0].SessionId);
        Assert.Equal(
            ["account-disabled poll siem", "account-disabled push reports-api",
             "session-revoked backchannel-logout billing-web", "session-revoked backchannel-logout reports-web",
             "session-revoked poll siem", "session-revoked push reports-api"],
            stored.Deliveries.Select(d => $"{d.Event!.Type} {d.Channel} {d.Destination}").Order(StringComparer.Ordinal));
        x.Reports.Hang.SetResult();
    }

    [Fact]
    public async Task A_receiver_down_for_two_minutes_gets_every_event_after_it_comes_back_once_and_in_order()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var api = await SignalReceiver.StartAsync();
        api.Answer = _ => 503;
        await using var server = await TesseraTestServer.StartAsync(Receiver(api), time);
        var users = await DeactivateUsersAsync(server, 5);
        await api.WaitForAsync(1);

        // Two minutes of outage: the head of the queue is retried with backoff, nothing behind it overtakes it.
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(2); elapsed += TimeSpan.FromSeconds(10))
        {
            time.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(250);
        }

        var attemptsWhileDown = api.Requests.Count;
        Assert.InRange(attemptsWhileDown, 3, 12);
        Assert.All(api.Requests, r => Assert.Equal(users[0], Subject(r)));
        Assert.Empty(api.Acknowledged);

        api.Answer = _ => 202;
        time.Advance(TimeSpan.FromMinutes(1)); // the longest backoff
        var acknowledged = await api.WaitForAcknowledgedAsync(5);
        await Task.Delay(500);

        Assert.Equal(users, api.Acknowledged.Select(Subject));
        Assert.Equal(5, api.Acknowledged.Select(r => r.Jwt.Id).Distinct().Count());
        Assert.Single(api.Requests.Take(attemptsWhileDown).Select(r => r.Jwt.Id).Distinct()); // retries carry the same jti
        var audit = await server.AuditAsync(until: rows => rows.Count(a => a.Event == "signal.delivered") >= 5);
        Assert.Single(audit, a => a.Event == "signal.delivery_failed"); // the first failure, not every retry
        Assert.Equal(5, audit.Count(a => a.Event == "signal.delivered"));
    }

    [Fact]
    public async Task A_receiver_that_is_down_holds_up_no_other_however_much_waits_for_it()
    {
        await using var down = await SignalReceiver.StartAsync();
        await using var up = await SignalReceiver.StartAsync();
        down.Answer = _ => 503;
        await using var server = await TesseraTestServer.StartAsync(options =>
        {
            Receiver(down)(options);
            options.Signals.Receivers.Add(new SignalReceiverOptions { Id = "siem", Endpoint = up.Url, Audience = "https://siem.example" });
        });

        // A backlog of old signals for the receiver that is down, stored before the one both receivers must get.
        await server.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            for (var i = 0; i < 600; i++)
            {
                var signal = new Tessera.Storage.SignalEventRecord
                {
                    Type = "account-disabled",
                    UserId = Guid.NewGuid(),
                    OrganizationId = TestConfiguration.Organization,
                    InitiatingEntity = "admin",
                    Reason = "backlog",
                    OccurredAt = now,
                };
                db.SignalDeliveries.Add(new Tessera.Storage.SignalDeliveryRecord
                {
                    Event = signal,
                    Channel = "push",
                    Destination = "api",
                    TokenId = $"backlog-{i}",
                    NextAttemptAt = now,
                    CreatedAt = now,
                });
            }

            return await db.SaveChangesAsync();
        });
        var users = await DeactivateUsersAsync(server, 1);

        var received = await up.WaitForAcknowledgedAsync(1);
        await down.WaitForAsync(1); // the receiver that is down is tried, so what it was sent can be checked
        Assert.Equal(users, received.Select(Subject));
        Assert.Empty(down.Acknowledged);
        Assert.All(down.Requests, r => Assert.Equal("backlog-0", r.Jwt.Id)); // the head is retried; nothing overtakes it
    }

    [Theory]
    [InlineData("the receiver was down until the restart")]
    [InlineData("the restart cut a delivery off mid-request")]
    public async Task After_a_restart_every_undelivered_signal_arrives_exactly_once(string how)
    {
        await using var api = await SignalReceiver.StartAsync();
        await using var database = await TestDatabase.CreateAsync();
        List<string> users;
        string keyEncryptionKey;
        await using (var before = await TesseraTestServer.StartAsync(Receiver(api), database: database, keepDatabase: true))
        {
            keyEncryptionKey = before.Options.Keys.EncryptionKey;
            if (how.Contains("mid-request", StringComparison.Ordinal))
            {
                api.Hang = new TaskCompletionSource();
                users = await DeactivateUsersAsync(before, 4);
                await api.WaitForAsync(1); // the first push is in flight, unanswered, when the node stops
            }
            else
            {
                api.Answer = _ => 503;
                users = await DeactivateUsersAsync(before, 4);
                await api.WaitForAsync(1);
            }
        }

        Assert.Empty(api.Acknowledged);
        api.Hang = null;
        api.Answer = _ => 202;
        await using var after = await TesseraTestServer.StartAsync(options =>
        {
            Receiver(api)(options);
            options.Keys.EncryptionKey = keyEncryptionKey; // the same deployment, restarted
        }, database: database);
        await api.WaitForAcknowledgedAsync(4);
        await Task.Delay(1000);

        Assert.Equal(users, api.Acknowledged.Select(Subject));
        Assert.Equal(4, api.Acknowledged.Select(r => r.Jwt.Id).Distinct().Count());
        await after.AuditAsync(until: rows => rows.Count(a => a.Event == "signal.delivered") >= 4);
        var outcomes = await after.WithDbAsync(db => db.SignalDeliveries.Select(d => d.Outcome).ToListAsync());
        Assert.Equal(4, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal("delivered", o));
    }

    [Fact]
    public async Task Two_nodes_dispatching_the_same_outbox_deliver_every_signal_exactly_once()
    {
        await using var api = await SignalReceiver.StartAsync();
        var (a, b, database) = await Nodes.TwoAsync(Receiver(api));
        await using var _ = database;
        await using var nodeA = a;
        await using var nodeB = b;

        // Deactivations through both nodes at once: both dispatchers are woken, and both see every delivery.
        var users = (await Task.WhenAll(DeactivateUsersAsync(a, 15, "a"), DeactivateUsersAsync(b, 15, "b"))).SelectMany(u => u).ToList();
        await api.WaitForAcknowledgedAsync(users.Count);
        await Task.Delay(1000); // a duplicate would arrive by now

        Assert.Equal(users.Count, api.Acknowledged.Count);
        Assert.Equal(users.Order(), api.Acknowledged.Select(Subject).Order());
        Assert.Equal(users.Count, api.Acknowledged.Select(r => r.Jwt.Id).Distinct().Count());
        var outcomes = await a.WithDbAsync(db => db.SignalDeliveries.Select(d => d.Outcome).ToListAsync());
        Assert.Equal(users.Count, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal("delivered", o));
    }
}
