using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Audit;

/// <summary>
/// <c>Audit.Streams</c>: the audit log posted to a collector on a real loopback port as it is written, in id order,
/// in batches that are resent unchanged (same rows, same Idempotency-Key) until acknowledged, so a collector that
/// keeps the keys it has acknowledged holds every row exactly once, whatever failed on the way.
/// </summary>
public sealed class AuditStreamTests
{
    private const string Authorization = "Bearer siem-ingest-0123456789";

    /// <summary>A SIEM's HTTP collector: records every batch, answers as the test says, and keeps what it acknowledged once per key.</summary>
    private sealed class Collector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, Batch> _kept = new(StringComparer.Ordinal);

        private Collector(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public ConcurrentQueue<Batch> Received { get; } = new();

        /// <summary>The status the next batch gets.</summary>
        public Func<Batch, Task<int>> Answer { get; set; } = _ => Task.FromResult(StatusCodes.Status200OK);

        public sealed record Batch(string Key, string? Authorization, string ContentType, List<JsonObject> Lines, string Body);

        /// <summary>Every line acknowledged, once per Idempotency-Key, in the order of the keys' first rows.</summary>
        public List<JsonObject> Kept => _kept.Values.OrderBy(b => long.Parse(b.Key.Split(':')[^1].Split('-')[0].Trim('"'))).SelectMany(b => b.Lines).ToList();

        public static async Task<Collector> StartAsync()
        {
            Collector? collector = null;
            var (app, url) = await LoopbackServer.StartAsync(app => app.MapPost("/ingest", (HttpContext http) => collector!.HandleAsync(http)));
            collector = new Collector(app, url + "/ingest");
            return collector;
        }

        private async Task HandleAsync(HttpContext http)
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            var batch = new Batch(http.Request.Headers["Idempotency-Key"].ToString(), http.Request.Headers.Authorization.FirstOrDefault(), http.Request.ContentType ?? "", lines, body);
            Received.Enqueue(batch);
            var status = await Answer(batch);
            if (status is >= 200 and < 300)
            {
                _kept.TryAdd(batch.Key, batch);
            }

            http.Response.StatusCode = status;
        }

        /// <summary>Waits until the acknowledged lines reach row <paramref name="id"/>.</summary>
        public async Task<List<JsonObject>> UntilAsync(long id, Func<JsonObject, long> idOf, TimeSpan? timeout = null)
        {
            using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
            while (!Kept.Any(l => idOf(l) >= id))
            {
                await Task.Delay(50, cancel.Token);
            }

            return Kept;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    private static AuditStreamOptions Stream(Collector collector, Action<AuditStreamOptions>? configure = null)
    {
        var stream = new AuditStreamOptions { Id = "siem", Endpoint = collector.Url, Authorization = Authorization, BatchSize = 7 };
        configure?.Invoke(stream);
        return stream;
    }

    private static long JsonlId(JsonObject line) => line["id"]!.GetValue<long>();

    /// <summary>Waits until the stream's destination has acknowledged every row up to <paramref name="id"/>.</summary>
    private static async Task UntilDeliveredAsync(TesseraTestServer server, string stream, long id)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await server.WithDbAsync(db => db.AuditStreams.AsNoTracking().Where(s => s.StreamId == stream).Select(s => (long?)s.DeliveredUpTo).SingleOrDefaultAsync()) is not { } delivered
            || delivered < id)
        {
            await Task.Delay(50, cancel.Token);
        }
    }

    [Fact]
    public async Task Every_row_reaches_the_collector_once_in_order_with_its_columns_in_batches_of_at_most_BatchSize()
    {
        await using var collector = await Collector.StartAsync();
        await using var server = await TesseraTestServer.StartAsync(o => o.Audit.Streams.Add(Stream(collector)));

        var rows = await AuditActivity.WriteRowsAsync(server, requests: 20);
        var kept = await collector.UntilAsync(rows[^1].Id, JsonlId);

        Assert.Equal(rows.Select(r => r.Id), kept.Select(JsonlId).Where(id => id <= rows[^1].Id));
        Assert.Equal(rows.Select(r => r.Hash), kept.Take(rows.Count).Select(l => l["hash"]!.GetValue<string>()));
        Assert.Equal(rows.Select(r => r.PreviousHash), kept.Take(rows.Count).Select(l => l["previous_hash"]!.GetValue<string>()));
        Assert.All(collector.Received, batch =>
        {
            Assert.InRange(batch.Lines.Count, 1, 7);
            Assert.Equal(Authorization, batch.Authorization);
            Assert.StartsWith(AuditStreams.ContentType, batch.ContentType, StringComparison.Ordinal);
            Assert.Equal($"\"siem:{JsonlId(batch.Lines[0])}-{JsonlId(batch.Lines[^1])}\"", batch.Key);
        });
        Assert.Equal(collector.Received.Count, collector.Received.Select(b => b.Key).Distinct().Count());
        var cursor = await server.WithDbAsync(db => db.AuditStreams.AsNoTracking().SingleAsync());
        Assert.True(cursor.DeliveredUpTo >= rows[^1].Id);
        Assert.Null(cursor.LastError);
    }

    [Fact]
    public async Task A_refused_batch_is_sent_again_unchanged_until_acknowledged_and_nothing_is_lost_or_doubled()
    {
        await using var collector = await Collector.StartAsync();
        var refusals = 0;
        collector.Answer = _ => Task.FromResult(Interlocked.Increment(ref refusals) <= 2 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status202Accepted);
        await using var server = await TesseraTestServer.StartAsync(o => o.Audit.Streams.Add(Stream(collector)));

        var rows = await AuditActivity.WriteRowsAsync(server, requests: 6);
        var kept = await collector.UntilAsync(rows[^1].Id, JsonlId, TimeSpan.FromSeconds(30));

        var first = collector.Received.Take(3).ToList();
        Assert.Equal(first[0].Key, first[1].Key);
        Assert.Equal(first[0].Key, first[2].Key);
        Assert.Equal(first[0].Body, first[1].Body);
        Assert.Equal(first[0].Body, first[2].Body);
        Assert.Equal(rows.Select(r => r.Id), kept.Select(JsonlId).Where(id => id <= rows[^1].Id));
        Assert.Equal(kept.Count, kept.Select(JsonlId).Distinct().Count());
    }

    [Fact]
    public async Task An_acknowledgement_that_is_lost_makes_the_same_batch_come_again_under_the_same_key()
    {
        await using var collector = await Collector.StartAsync();
        var answered = 0;

        // The collector keeps the first batch, but its answer comes after Tessera stopped waiting: to Tessera it is unacknowledged.
        collector.Answer = async _ =>
        {
            if (Interlocked.Increment(ref answered) == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(1.5));
            }

            return StatusCodes.Status200OK;
        };
        await using var server = await TesseraTestServer.StartAsync(o => o.Audit.Streams.Add(Stream(collector, s => s.Timeout = TimeSpan.FromSeconds(1))));

        var rows = await AuditActivity.WriteRowsAsync(server, requests: 3);
        var kept = await collector.UntilAsync(rows[^1].Id, JsonlId, TimeSpan.FromSeconds(30));

        await UntilDeliveredAsync(server, "siem", rows[^1].Id);

        var received = collector.Received.ToList();
        Assert.Equal(received[0].Key, received[1].Key);
        Assert.Equal(received[0].Body, received[1].Body);
        Assert.Equal(rows.Select(r => r.Id), kept.Select(JsonlId).Where(id => id <= rows[^1].Id));
    }

    [Fact]
    public async Task An_ocsf_stream_of_some_events_sends_only_those_as_OCSF_events()
    {
        await using var collector = await Collector.StartAsync();
        await using var server = await TesseraTestServer.StartAsync(o => o.Audit.Streams.Add(Stream(collector, s =>
        {
            s.Format = AuditExport.Ocsf;
            s.Events = ["token.*"];
        })));

        var rows = await AuditActivity.WriteRowsAsync(server, requests: 6);
        var tokenRows = rows.Where(r => r.Event.StartsWith("token.", StringComparison.Ordinal)).ToList();
        Assert.Contains(rows, r => !r.Event.StartsWith("token.", StringComparison.Ordinal));
        await UntilDeliveredAsync(server, "siem", rows[^1].Id);

        var kept = collector.Kept;
        var hashes = rows.Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(tokenRows.Select(r => r.Hash), kept.Select(l => l["unmapped"]!["hash"]!.GetValue<string>()).Where(hashes.Contains));
        Assert.All(kept, line =>
        {
            Assert.StartsWith("token.", line["unmapped"]!["event"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(OcsfMapping.ApiActivity.Uid, line["class_uid"]!.GetValue<int>());
        });
    }

    [Fact]
    public async Task Two_nodes_streaming_the_same_log_deliver_each_row_once_and_a_stream_added_later_can_start_from_now()
    {
        await using var collector = await Collector.StartAsync();
        await using var database = await TestDatabase.CreateAsync();
        var keys = new KeyOptions { EncryptionKey = Tessera.Keys.KeyEncryptionKey.Generate() };
        await using var a = await TesseraTestServer.StartAsync(o =>
        {
            o.Keys = keys;
            o.Audit.Streams.Add(Stream(collector));
        }, database: database, keepDatabase: true);
        var before = await AuditActivity.WriteRowsAsync(a, requests: 6);

        // The second node also streams to a destination added only now, which wants what happens from here on.
        await using var b = await TesseraTestServer.StartAsync(o =>
        {
            o.Keys = keys;
            o.Audit.Streams.Add(Stream(collector));
            o.Audit.Streams.Add(Stream(collector, s =>
            {
                s.Id = "late";
                s.From = AuditStreamOptions.FromNow;
            }));
        }, database: database, keepDatabase: true);

        // "now" is the newest row when the stream first starts, a moment after the node does: the rows below come after it.
        await UntilDeliveredAsync(b, "late", before[^1].Id);
        await AuditActivity.WriteRowsAsync(a, requests: 10);
        var rows = await AuditActivity.WriteRowsAsync(b, requests: 10);
        await UntilDeliveredAsync(a, "siem", rows[^1].Id);
        await UntilDeliveredAsync(a, "late", rows[^1].Id);

        List<long> Lines(string stream) => collector.Received.Where(r => r.Key.StartsWith($"\"{stream}:", StringComparison.Ordinal))
            .SelectMany(r => r.Lines).Select(JsonlId).Where(id => id <= rows[^1].Id).ToList();
        Assert.Equal(rows.Select(r => r.Id), Lines("siem"));
        var late = Lines("late");
        Assert.True(late[0] > before[^1].Id, $"the late stream began at row {late[0]}, before it was added");
        Assert.Equal(rows.Where(r => r.Id >= late[0]).Select(r => r.Id), late);
        Assert.Contains(rows, r => r.Id > late[0] && r.ClientId is not null);
    }
}
