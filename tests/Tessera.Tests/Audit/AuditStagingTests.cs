using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tessera.Audit;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Audit;

/// <summary>
/// An event that records a change of state is written in the change's own transaction: a rolled-back change leaves no
/// row, a committed one always gets its row, even when the node stops before moving it into the chain.
/// </summary>
public sealed class AuditStagingTests
{
    private static AuditEvent Marker(string reason) => new(AuditEvents.AdminChanged, AuditEvent.Success) { Reason = reason };

    [Fact]
    public async Task A_staged_event_joins_the_chain_when_its_transaction_commits_and_never_when_it_rolls_back()
    {
        await using var server = await TesseraTestServer.StartAsync();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
            var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
            await using (var rolledBack = await db.Database.BeginTransactionAsync())
            {
                audit.Stage(db, Marker("rolled back"));
                await db.SaveChangesAsync();
                await rolledBack.RollbackAsync();
            }

            db.ChangeTracker.Clear();
            await using var committed = await db.Database.BeginTransactionAsync();
            audit.Stage(db, Marker("committed"));
            await db.SaveChangesAsync();
            await committed.CommitAsync();
        }

        var rows = await server.AuditAsync(until: rows => rows.Any(r => r.Reason == "committed"));

        Assert.Single(rows, r => r.Reason == "committed");
        Assert.DoesNotContain(rows, r => r.Reason == "rolled back");
        Assert.Equal(0, await server.WithDbAsync(db => db.AuditPending.CountAsync()));
        var verified = await server.WithDbAsync(db => AuditChainVerifier.VerifyAsync(AuditRows.ReadAsync(db), []));
        Assert.True(verified.Intact, verified.Break?.ToString());
    }

    [Fact]
    public async Task Events_a_stopped_node_committed_but_did_not_move_are_chained_by_the_next_node_to_start()
    {
        var database = await TestDatabase.CreateAsync();
        await using var _ = database;
        var keys = new Tessera.Hosting.KeyOptions { EncryptionKey = Tessera.Keys.KeyEncryptionKey.Generate() };
        await using (var first = await TesseraTestServer.StartAsync(o => o.Keys = keys, database: database, keepDatabase: true))
        {
            // What a node killed between its commit and its writer's move leaves behind: committed, not chained.
            await first.WithDbAsync(db =>
            {
                db.AuditPending.Add(new AuditPendingRecord { OccurredAt = DateTime.UtcNow, Event = System.Text.Json.JsonSerializer.Serialize(Marker("left behind")) });
                return db.SaveChangesAsync();
            });
        }

        await using var next = await TesseraTestServer.StartAsync(o => o.Keys = keys, database: database, keepDatabase: true);
        var rows = await next.AuditAsync(until: rows => rows.Any(r => r.Reason == "left behind"));

        Assert.Single(rows, r => r.Reason == "left behind");
        Assert.Equal(0, await next.WithDbAsync(db => db.AuditPending.CountAsync()));
    }

    [Fact]
    public async Task A_SCIM_deactivation_stages_its_rows_in_the_order_of_the_change()
    {
        await using var server = await TesseraTestServer.StartAsync(options => ScimClient.Configure(options));
        using var http = server.CreateClient();
        var scim = new ScimClient(http, TestConfiguration.Organization, ScimClient.StMarysToken);
        var created = await scim.PostAsync("Users", ScimClient.User("staged@stmarys.example"));
        Assert.True(created.Status == 201, created.ToString());

        var deactivated = await scim.PatchAsync($"Users/{created.Id}", ScimClient.Patch(ScimClient.Op("replace", "active", false)));
        var rows = await server.AuditAsync(until: rows => rows.Any(r => r.Event == "scim.user.deactivated"));

        Assert.Equal(200, deactivated.Status);
        var order = rows.Where(r => r.UserId == created.Id && (r.Event.StartsWith("scim.", StringComparison.Ordinal) || r.Event == AuditEvents.UserAccessRevoked))
            .Select(r => r.Event).ToList();
        Assert.Equal(["scim.user.created", AuditEvents.UserAccessRevoked, "scim.user.deactivated"], order);
        Assert.Equal(0, await server.WithDbAsync(db => db.AuditPending.CountAsync()));
    }
}
