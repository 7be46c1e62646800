using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Storage;
using Tessera.Tests.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Audit;

/// <summary>
/// <c>Audit.Retention</c>: the sweeper removes old rows only up to the newest checkpoint signed before the cut, the rows
/// kept verify from that checkpoint, tampering after the cut is still found, and any other DELETE is still refused.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class AuditRetentionTests
{
    private sealed record Arrangement(TesseraTestServer Server, FakeTimeProvider Time, AuditCheckpointRecord Old, AuditCheckpointRecord Recent, List<AuditRecord> Before) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    /// <summary>Rows and a checkpoint three days ago, rows and a checkpoint now, and rows since; a retention of one day.</summary>
    private static async Task<Arrangement> ArrangeAsync(TimeSpan? retention, Action<TesseraOptions>? configure = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-3));
        var server = await TesseraTestServer.StartAsync(options =>
        {
            options.Audit.Retention = retention;
            configure?.Invoke(options);
        }, time);
        await AuditActivity.WriteRowsAsync(server, requests: 4);
        var old = await LatestAfterForcingAsync(server);
        time.Advance(TimeSpan.FromDays(3));
        await AuditActivity.WriteRowsAsync(server, requests: 4);
        var recent = await LatestAfterForcingAsync(server);
        var before = await AuditActivity.WriteRowsAsync(server, requests: 3);
        return new Arrangement(server, time, old, recent, before);
    }

    /// <summary>The checkpoint of the head: made now, or already made by the background writer (fake time runs fast).</summary>
    private static async Task<AuditCheckpointRecord> LatestAfterForcingAsync(TesseraTestServer server) =>
        await AuditActivity.CheckpointAsync(server)
        ?? await server.WithDbAsync(db => db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.HeadId).FirstAsync());

    private static Task SweepAsync(TesseraTestServer server) =>
        server.Services.GetServices<IHostedService>().OfType<ExpiredRecordSweeper>().Single().SweepAsync(CancellationToken.None);

    [Fact]
    public async Task Rows_older_than_the_retention_go_up_to_a_checkpoint_and_the_rest_still_verify_from_it()
    {
        await using var x = await ArrangeAsync(TimeSpan.FromDays(1));
        var file = ConfigurationFile.Write(x.Server.Options);

        await SweepAsync(x.Server);

        var kept = await x.Server.AuditAsync();
        Assert.Equal(x.Before.Where(r => r.Id > x.Old.HeadId).Select(r => r.Id), kept.Where(r => r.Id <= x.Before[^1].Id).Select(r => r.Id));
        Assert.Equal(x.Old.HeadHash, kept[0].PreviousHash);
        Assert.Equal(2, await x.Server.WithDbAsync(db => db.AuditCheckpoints.CountAsync(c => c.HeadId <= x.Recent.HeadId)));

        var (exit, output, error) = await CommandLine.RunAsync("audit", "verify", "--config", file);
        Assert.True(exit == 0, error);
        Assert.Contains($"start: rows up to row {x.Old.HeadId} were removed; the chain is verified from the checkpoint of row {x.Old.HeadId}", output, StringComparison.Ordinal);
        Assert.Contains($"count: {x.Old.Count + kept.Count}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_an_audit_stream_has_not_delivered_are_kept_whatever_their_age()
    {
        // A collector that is never there: nothing is acknowledged, so nothing may go.
        await using var x = await ArrangeAsync(TimeSpan.FromDays(1), options => options.Audit.Streams.Add(
            new AuditStreamOptions { Id = "siem", Endpoint = "http://127.0.0.1:9/ingest", Timeout = TimeSpan.FromMilliseconds(200) }));
        var before = await x.Server.AuditAsync();

        await SweepAsync(x.Server);

        var kept = await x.Server.AuditAsync();
        Assert.Equal(before.Select(r => r.Id), kept.Take(before.Count).Select(r => r.Id));
        Assert.Equal(0, await x.Server.WithDbAsync(db => db.AuditStreams.Where(s => s.StreamId == "siem").Select(s => s.DeliveredUpTo).SingleAsync()));
    }

    [Fact]
    public async Task Tampering_after_the_cut_is_still_found()
    {
        await using var x = await ArrangeAsync(TimeSpan.FromDays(1));
        var file = ConfigurationFile.Write(x.Server.Options);
        await SweepAsync(x.Server);
        var kept = await x.Server.AuditAsync();
        var tamper = new AuditTampering(x.Server);
        await tamper.DisableAppendOnlyAsync();
        await tamper.EditReasonAsync(kept[1].Id, "nothing happened");

        var (exit, _, error) = await CommandLine.RunAsync("audit", "verify", "--config", file);

        Assert.Equal(1, exit);
        Assert.StartsWith($"audit log broken: edited: row {kept[1].Id}: its hash does not match its content", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_removed_past_the_cut_by_hand_are_not_passed_off_as_retention()
    {
        await using var x = await ArrangeAsync(TimeSpan.FromDays(1));
        var file = ConfigurationFile.Write(x.Server.Options);
        await SweepAsync(x.Server);
        var kept = await x.Server.AuditAsync();
        var tamper = new AuditTampering(x.Server);
        await tamper.DisableAppendOnlyAsync();
        await tamper.DeleteAsync(id => id <= kept[2].Id);

        var (exit, _, error) = await CommandLine.RunAsync("audit", "verify", "--config", file);

        Assert.Equal(1, exit);
        Assert.StartsWith($"audit log broken: deleted: the log starts at row {kept[3].Id}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Any_other_delete_is_still_refused_after_rows_were_pruned()
    {
        await using var x = await ArrangeAsync(TimeSpan.FromDays(1));
        await SweepAsync(x.Server);
        var kept = await x.Server.AuditAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => x.Server.WithDbAsync(db => db.AuditEvents.Where(a => a.Id == kept[0].Id).ExecuteDeleteAsync()));
        await Assert.ThrowsAnyAsync<Exception>(() => x.Server.WithDbAsync(db => db.AuditEvents.ExecuteUpdateAsync(s => s.SetProperty(a => a.Reason, "edited"))));
        await Assert.ThrowsAnyAsync<Exception>(() => x.Server.WithDbAsync(db => db.AuditCheckpoints.ExecuteDeleteAsync()));

        Assert.Equal(kept.Select(r => (r.Id, r.Hash)), (await x.Server.AuditAsync()).Take(kept.Count).Select(r => (r.Id, r.Hash)));
    }

    public static TheoryData<string> BadCuts => new()
    {
        "a row that is no checkpoint's head",
        "the head of a checkpoint whose row was rewritten",
        "the newest row, which would leave the log empty",
    };

    [Theory]
    [MemberData(nameof(BadCuts))]
    public async Task The_prune_path_cuts_only_at_a_checkpoint_head_with_rows_after_it(string cut)
    {
        await using var x = await ArrangeAsync(retention: null);
        var rows = await x.Server.AuditAsync();
        var upTo = cut switch
        {
            "a row that is no checkpoint's head" => x.Old.HeadId - 1,
            "the head of a checkpoint whose row was rewritten" => x.Old.HeadId,
            "the newest row, which would leave the log empty" => (await LatestAfterForcingAsync(x.Server)).HeadId,
            _ => throw new ArgumentOutOfRangeException(nameof(cut), cut, null),
        };
        if (cut == "the head of a checkpoint whose row was rewritten")
        {
            var tamper = new AuditTampering(x.Server);
            await tamper.DisableAppendOnlyAsync();
            await tamper.RewriteFromAsync(x.Old.HeadId, "nothing happened");
            rows = await x.Server.AuditAsync();
        }

        await Assert.ThrowsAnyAsync<Exception>(() => x.Server.WithDbAsync(db => AuditRetention.PruneUpToAsync(db, upTo, CancellationToken.None)));

        Assert.Equal(rows.Select(r => r.Id), (await x.Server.AuditAsync()).Take(rows.Count).Select(r => r.Id));
    }

    [Fact]
    public async Task Without_a_retention_every_row_is_kept()
    {
        await using var x = await ArrangeAsync(retention: null);
        var before = await x.Server.AuditAsync();

        await SweepAsync(x.Server);

        Assert.Equal(before.Select(r => r.Id), (await x.Server.AuditAsync()).Take(before.Count).Select(r => r.Id));
    }
}
