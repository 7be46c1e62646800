using System.Data;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Tessera.Storage;
using Tessera.Telemetry;

namespace Tessera.Audit;

/// <summary>
/// Appends audit events. Requests hand events to a bounded queue and go on; one writer appends them in batches,
/// extending the hash chain under a database lock so that several nodes still make one chain. While the database is
/// out (restarting, failing over) the writer keeps its batch and tries again until it is stored: an outage delays
/// audit rows, it does not drop them. What a <c>kill -9</c> loses is what was queued and not yet committed: the events
/// of the last gather delay and one write (tens of milliseconds under load).
/// </summary>
public sealed partial class AuditLog(IServiceScopeFactory scopes, TimeProvider time, TesseraTelemetry telemetry, ILogger<AuditLog> logger) : BackgroundService
{
    private const int BatchSize = 500;
    private static readonly TimeSpan GatherDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan LongestOutagePause = TimeSpan.FromSeconds(2);
    private CancellationToken _stopping;

    private readonly Channel<Entry> _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(100_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private sealed record Entry(AuditEvent? Event, DateTime OccurredAt, TaskCompletionSource? Flushed);

    public void Record(AuditEvent auditEvent)
    {
        // Microsecond precision: what PostgreSQL keeps, so the hash computed now still holds when read back.
        var now = time.GetUtcNow().UtcDateTime;
        var entry = new Entry(auditEvent, new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc), null);
        if (!_queue.Writer.TryWrite(entry))
        {
            // The queue is full: wait rather than drop an event.
            _queue.Writer.WriteAsync(entry).AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Completes when every event recorded before the call is stored.</summary>
    public Task FlushAsync()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Writer.TryWrite(new Entry(null, default, flushed));
        return flushed.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var batch = new List<Entry>(BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                // Let a burst gather: one transaction (and one commit to disk) for many events instead of one each.
                await Task.Delay(GatherDelay, stoppingToken);
                await DrainAsync(batch, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Shutting down: store what is still queued.
        await DrainAsync(batch, CancellationToken.None);
    }

    private async Task DrainAsync(List<Entry> batch, CancellationToken cancellationToken)
    {
        while (_queue.Reader.TryRead(out var entry))
        {
            batch.Add(entry);
            if (batch.Count >= BatchSize)
            {
                await WriteAsync(batch, cancellationToken);
            }
        }

        await WriteAsync(batch, cancellationToken);
    }

    private async Task WriteAsync(List<Entry> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var events = batch.Where(e => e.Event is not null).ToList();
        for (var attempt = 1; events.Count > 0; attempt++)
        {
            try
            {
                await AppendAsync(events, cancellationToken);
                MeasureLag(events);
                break;
            }
            catch (Exception exception) when (StorageOutage.IsUnavailable(exception) && !_stopping.IsCancellationRequested)
            {
                // Out for now: keep the batch and wait for the database; events recorded meanwhile queue behind it.
                if (attempt == 1 || attempt % 10 == 0)
                {
                    LogAppendWaiting(exception, attempt);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(LongestOutagePause.TotalMilliseconds, 100 * attempt)), CancellationToken.None);
            }
            catch (Exception exception) when (attempt < 5 && exception is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
            {
                LogAppendRetry(exception, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken);
            }
            catch (Exception exception)
            {
                LogAppendFailed(exception, events.Count);
                break;
            }
        }

        foreach (var entry in batch)
        {
            entry.Flushed?.TrySetResult();
        }

        batch.Clear();
    }

    private async Task AppendAsync(List<Entry> events, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        // On PostgreSQL the advisory lock orders the appenders, and the head is read after it is taken: under
        // READ COMMITTED that read sees the row the previous holder committed. (SERIALIZABLE would read from a snapshot
        // taken before the wait, and fail whenever another node appended meanwhile.) SQLite has one writer at a time.
        var npgsql = db.Database.IsNpgsql();
        await using var transaction = await db.Database.BeginTransactionAsync(npgsql ? IsolationLevel.ReadCommitted : IsolationLevel.Serializable, cancellationToken);
        if (npgsql)
        {
            // One chain across nodes: appenders take turns.
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7373207)", cancellationToken);
        }

        var previous = await db.AuditEvents.OrderByDescending(a => a.Id).Select(a => a.Hash).FirstOrDefaultAsync(cancellationToken) ?? AuditChain.Genesis;
        var records = new List<AuditRecord>(events.Count);
        foreach (var entry in events)
        {
            var e = entry.Event!;
            var record = new AuditRecord
            {
                OccurredAt = entry.OccurredAt,
                Event = e.Event,
                Outcome = e.Outcome,
                OrganizationId = e.OrganizationId,
                UserId = e.UserId,
                ClientId = Truncate(e.ClientId, 100),
                ConnectionId = Truncate(e.ConnectionId, 100),
                IpAddress = Truncate(e.IpAddress, 64),
                UserAgent = Truncate(e.UserAgent, 512),
                Reason = Truncate(e.Reason, 500),
                Detail = e.Detail is { Count: > 0 } ? JsonSerializer.Serialize(e.Detail) : null,
                PreviousHash = previous,
            };
            record.Hash = AuditChain.Compute(record);
            previous = record.Hash;
            records.Add(record);
        }

        // Multi-row INSERTs over the context's own connection and transaction: an append-only table needs none of
        // the change tracker's work, and the audit writer is on the path of every token issued.
        await AuditInsert.ExecuteAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), db.Database.IsSqlite(), records, cancellationToken);

        await transaction.CommitAsync(cancellationToken);
    }

    private void MeasureLag(List<Entry> stored)
    {
        if (!telemetry.MeasuresAuditLag)
        {
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        foreach (var entry in stored)
        {
            telemetry.AuditWriteLag(now - entry.OccurredAt);
        }
    }

    private static string? Truncate(string? value, int length) => value is null || value.Length <= length ? value : value[..length];

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "Appending to the audit log failed (attempt {Attempt}); retrying")]
    private partial void LogAppendRetry(Exception exception, int attempt);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "The database is unavailable; the audit log keeps its batch and tries again (attempt {Attempt})")]
    private partial void LogAppendWaiting(Exception exception, int attempt);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Critical, Message = "Could not append {Count} events to the audit log")]
    private partial void LogAppendFailed(Exception exception, int count);
}
