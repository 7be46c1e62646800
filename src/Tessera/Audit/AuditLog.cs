using System.Data;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Tessera.Storage;
using Tessera.Telemetry;

namespace Tessera.Audit;

/// <summary>
/// Appends audit events, extending the hash chain under a database lock so that several nodes still make one chain.
/// Two ways in:
/// <list type="bullet">
/// <item><see cref="Stage"/>, for an event that records a change of state (a revocation, an admin change, a SCIM
/// write): the event is written with the change, in the caller's transaction, so either both are stored or neither
/// is; once committed, the writer moves it into the chain.</item>
/// <item><see cref="Record"/> (and <see cref="RecordAsync"/> on the hot paths), for everything else (tokens issued,
/// sign-ins, refusals): the request hands the event to a bounded queue and goes on, and the writer appends queued
/// events in batches. What a <c>kill -9</c> loses is what was queued and not yet committed: while the writer keeps
/// up, the events of the last gather delay and one write (tens of milliseconds). When requests come faster than the
/// database takes rows, the queue fills to <see cref="QueueCapacity"/> and requests wait for room: the rate is then
/// the writer's, and the queue with the batch in hand (<see cref="BatchSize"/>) bound both the memory held and what a
/// <c>kill -9</c> can lose.</item>
/// </list>
/// While the database is out (restarting, failing over) the writer keeps its batch and tries again until it is
/// stored: an outage delays audit rows, it does not drop them.
/// </summary>
public sealed partial class AuditLog(IServiceScopeFactory scopes, AfterCommit afterCommit, TimeProvider time, TesseraTelemetry telemetry, ILogger<AuditLog> logger) : BackgroundService
{
    /// <summary>
    /// Events per transaction, at most. While the writer keeps up, a batch is what gathered since the last one (a few
    /// hundred under full load); the cap matters when it falls behind. Each batch pays fixed round trips (on
    /// PostgreSQL the lock, the head's read, the COPY and a commit that waits for the WAL flush), so a writer that is
    /// behind catches up faster in larger ones: on PostgreSQL 2,000 issued 7 % more tokens a second than 500, with
    /// PostgreSQL taking less of the machine (docs/performance.md). A fifth of <see cref="QueueCapacity"/>.
    /// </summary>
    internal const int BatchSize = 2000;
    private static readonly TimeSpan GatherDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan LongestOutagePause = TimeSpan.FromSeconds(2);

    /// <summary>How often the writer looks for staged events nobody woke it for (a node stopped between commit and move).</summary>
    private static readonly TimeSpan PendingSweep = TimeSpan.FromSeconds(10);

    private CancellationToken _stopping;

    // True at start: a node that stopped may have left staged events behind.
    private volatile bool _pendingMayExist = true;

    /// <summary>
    /// Events waiting for the writer, at most: under a second of the fastest token path, and about 10 MB. (It was
    /// 100,000: on PostgreSQL under full load on a 2-core machine the writer fell behind, the queue held 130 MB more and
    /// requests that found it full blocked their threads for seconds; see docs/performance.md, "Memory".)
    /// </summary>
    public const int QueueCapacity = 10_000;

    private readonly Channel<Entry> _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private sealed record Entry(AuditEvent? Event, DateTime OccurredAt, TaskCompletionSource? Flushed);

    public void Record(AuditEvent auditEvent)
    {
        var queued = RecordAsync(auditEvent);
        if (!queued.IsCompletedSuccessfully)
        {
            // The queue is full: wait rather than drop an event.
            queued.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// As <see cref="Record"/>, for a caller that can await: when the queue is full it waits for room without holding
    /// a thread, so a writer that fell behind slows requests down rather than starving the thread pool.
    /// </summary>
    public ValueTask RecordAsync(AuditEvent auditEvent)
    {
        var entry = new Entry(auditEvent, Now(), null);
        return _queue.Writer.TryWrite(entry) ? ValueTask.CompletedTask : _queue.Writer.WriteAsync(entry);
    }

    /// <summary>
    /// Writes <paramref name="auditEvent"/> with the change <paramref name="db"/> is about to save: it is stored by the
    /// caller's next save, in the caller's transaction, and joins the chain once that is committed. Stage before the
    /// save (and the commit) that carries the change.
    /// </summary>
    public void Stage(TesseraDbContext db, AuditEvent auditEvent)
    {
        db.AuditPending.Add(new AuditPendingRecord { OccurredAt = Now(), Event = JsonSerializer.Serialize(auditEvent) });
        afterCommit.Register(db, WakeForStaged);
    }

    private void WakeForStaged()
    {
        _pendingMayExist = true;
        _queue.Writer.TryWrite(new Entry(null, default, null));
    }

    // Microsecond precision: what PostgreSQL keeps, so the hash computed now still holds when read back.
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
    }

    /// <summary>Completes when every event recorded before the call is stored.</summary>
    public async Task FlushAsync()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The marker waits for room like any event: dropped from a full queue, the flush would never complete.
        await _queue.Writer.WriteAsync(new Entry(null, default, flushed));
        await flushed.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var batch = new List<Entry>(BatchSize);
        _ = SweepStagedAsync(stoppingToken);
        _queue.Writer.TryWrite(new Entry(null, default, null)); // what a stopped node left staged goes in now
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

    private async Task SweepStagedAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PendingSweep);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                WakeForStaged();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
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
        if (batch.Count == 0 && !_pendingMayExist)
        {
            return;
        }

        var events = batch.Where(e => e.Event is not null).ToList();
        for (var attempt = 1; events.Count > 0 || _pendingMayExist; attempt++)
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
        var staged = await TakeStagedAsync(db, cancellationToken);
        var records = new List<AuditRecord>(staged.Count + events.Count);
        foreach (var (e, occurredAt) in staged.Select(p => (JsonSerializer.Deserialize<AuditEvent>(p.Event)!, p.OccurredAt))
                     .Concat(events.Select(entry => (entry.Event!, entry.OccurredAt))))
        {
            var record = new AuditRecord
            {
                OccurredAt = occurredAt,
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

        if (records.Count == 0)
        {
            return; // nothing was staged after all
        }

        // Rows written over the context's own connection, in its transaction: an append-only table needs none of the
        // change tracker's work, and the audit writer is on the path of every token issued.
        await AuditInsert.ExecuteAsync(db.Database.GetDbConnection(), db.Database.IsSqlite(), records, cancellationToken);
        if (staged.Count > 0)
        {
            var ids = staged.Select(p => p.Id).ToList();
            await db.AuditPending.Where(p => ids.Contains(p.Id)).ExecuteDeleteAsync(cancellationToken);
        }

        try
        {
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            _pendingMayExist |= staged.Count > 0; // not moved after all
            throw;
        }
    }

    /// <summary>
    /// Staged events to move into the chain in this append, oldest first, when any may be waiting. Read under the
    /// chain's lock, so two nodes never move the same one.
    /// </summary>
    private async Task<List<AuditPendingRecord>> TakeStagedAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        if (!_pendingMayExist)
        {
            return [];
        }

        // Cleared before the read: a wake that comes during it sets it again, so nothing committed meanwhile is missed.
        _pendingMayExist = false;
        try
        {
            var staged = await db.AuditPending.AsNoTracking().OrderBy(p => p.Id).Take(BatchSize).ToListAsync(cancellationToken);
            if (staged.Count == BatchSize)
            {
                WakeForStaged(); // more behind these
            }

            return staged;
        }
        catch
        {
            _pendingMayExist = true;
            throw;
        }
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
