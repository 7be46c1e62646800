using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// Signs the chain's head into <c>audit_checkpoints</c> when <c>Audit.CheckpointEvery</c> rows were added since the last
/// checkpoint, or when the oldest row no checkpoint covers yet is <c>Audit.CheckpointInterval</c> old. Before signing it
/// walks the rows since the last checkpoint, so a head is never signed over a chain that does not hold. Any number of
/// nodes may run it: on PostgreSQL one at a time takes an advisory lock and the others skip the round; SQLite's write
/// transaction serializes them; and the unique head id refuses a second checkpoint of one head in any case.
/// </summary>
public sealed partial class AuditCheckpointWriter(
    IServiceScopeFactory scopes,
    TesseraConfiguration configuration,
    KeyRing keys,
    TesseraIssuer issuer,
    TimeProvider time,
    ILogger<AuditCheckpointWriter> logger) : BackgroundService
{
    /// <summary>How often each node looks whether a checkpoint is due (two small indexed queries).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private const long AdvisoryLock = 7373208; // the audit writer's is 7373207

    private (long HeadId, DateTimeOffset At)? _refused;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Polling runs on the wall clock; the injected clock decides what is due.
        using var timer = new PeriodicTimer(PollInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CheckpointAsync(force: false, stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogCheckpointFailed(exception);
            }
        }
    }

    /// <summary>
    /// Signs the head if a checkpoint is due, or with <paramref name="force"/> whenever rows were added since the last
    /// one. Returns the checkpoint made, or null when none was due, another node was making one, or the rows since the
    /// last checkpoint do not verify.
    /// </summary>
    public async Task<AuditCheckpointRecord?> CheckpointAsync(bool force, CancellationToken cancellationToken)
    {
        if (!keys.IsLoaded)
        {
            return null; // before the server's start tasks ran
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();

        // Whether one is due is asked without a write transaction: most of the time nothing is.
        if (!force && !await DueAsync(db, cancellationToken))
        {
            return null;
        }

        // On PostgreSQL one node at a time makes a checkpoint, under an advisory lock taken before the walk. On SQLite the
        // rows are walked before the write transaction: it holds the database's one write lock, which the audit writer
        // would otherwise wait on for the whole walk; committed rows never change (a change is what the walk finds).
        await using var transaction = db.Database.IsNpgsql() ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        return await CheckpointAsync(db, transaction, cancellationToken);
    }

    private async Task<AuditCheckpointRecord?> CheckpointAsync(TesseraDbContext db, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction? lockedTransaction, CancellationToken cancellationToken)
    {
        if (lockedTransaction is not null
            && !await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock({AdvisoryLock}) AS \"Value\"").SingleAsync(cancellationToken))
        {
            return null;
        }

        return await WalkAsync(db, cancellationToken) is { } walk ? await SignAsync(db, lockedTransaction, walk, cancellationToken) : null;
    }

    /// <summary>The rows since the last checkpoint, walked up to the head: what a checkpoint would sign.</summary>
    internal sealed record Walk(AuditCheckpointRecord? Last, long HeadId, long Count, string HeadHash);

    /// <summary>The walk from the last checkpoint to the head, or null when no row was added since or the rows do not verify.</summary>
    internal async Task<Walk?> WalkAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        var (last, headId) = await HeadAsync(db, cancellationToken);
        var after = last?.HeadId ?? 0;
        if (headId <= after)
        {
            return null;
        }

        var start = last is null ? null : new AuditChainStart(last.HeadId, last.HeadHash, last.Count);
        var segment = await AuditChainVerifier.VerifyAsync(AuditRows.ReadAsync(db, after, headId, cancellationToken: cancellationToken), [], start, cancellationToken);
        if (segment.Break is { } broken)
        {
            _refused = (headId, time.GetUtcNow());
            LogChainBroken(headId, broken.ToString());
            return null;
        }

        return new Walk(last, headId, segment.Count, segment.HeadHash);
    }

    /// <summary>
    /// Signs the walk's head, in the transaction given or one of its own, unless a checkpoint was signed since the
    /// checkpoint the walk started from: a second one naming the same predecessor would fork the chain of checkpoints.
    /// </summary>
    internal async Task<AuditCheckpointRecord?> SignAsync(TesseraDbContext db, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction? lockedTransaction, Walk walk, CancellationToken cancellationToken)
    {
        await using var own = lockedTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        var write = lockedTransaction ?? own!;

        var after = walk.Last?.HeadId ?? 0;
        var latest = await db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.HeadId).Select(c => (long?)c.HeadId).FirstOrDefaultAsync(cancellationToken);
        if ((latest ?? 0) != after)
        {
            return null; // another node signed one meanwhile: this round is its
        }

        var now = time.GetUtcNow();
        var previous = walk.Last is null ? AuditCheckpoint.Genesis : AuditCheckpoint.HashOf(walk.Last.Token);
        var record = new AuditCheckpointRecord
        {
            CreatedAt = now.UtcDateTime,
            Count = walk.Count,
            HeadId = walk.HeadId,
            HeadHash = walk.HeadHash,
            Token = AuditCheckpoint.Sign(issuer.Name, now, walk.Count, walk.HeadId, walk.HeadHash, previous, keys.SigningCredentials(SecurityAlgorithms.EcdsaSha256)),
        };
        db.AuditCheckpoints.Add(record);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await write.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another node signed this head first.
            return null;
        }

        LogCheckpointMade(record.Count, record.HeadId);
        return record;
    }

    /// <summary>
    /// CheckpointEvery rows since the last checkpoint, or its oldest uncovered row CheckpointInterval old; and, after a
    /// chain that did not verify, not before the head moved and CheckpointInterval passed (walking it every second
    /// would find the same break).
    /// </summary>
    private async Task<bool> DueAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        var (last, headId) = await HeadAsync(db, cancellationToken);
        var after = last?.HeadId ?? 0;
        if (headId <= after)
        {
            return false;
        }

        var options = configuration.Current.Audit;
        var now = time.GetUtcNow();
        if (_refused is { } refused && (refused.HeadId == headId || now - refused.At < options.CheckpointInterval))
        {
            return false;
        }

        // Ids never outnumber rows, so only a span of ids that long needs counting, and never past CheckpointEvery.
        if (headId - after >= options.CheckpointEvery
            && await db.AuditEvents.Where(a => a.Id > after).OrderBy(a => a.Id).Take(options.CheckpointEvery).CountAsync(cancellationToken) >= options.CheckpointEvery)
        {
            return true;
        }

        var oldest = await db.AuditEvents.Where(a => a.Id > after).OrderBy(a => a.Id).Select(a => a.OccurredAt).FirstAsync(cancellationToken);
        return now - new DateTimeOffset(oldest, TimeSpan.Zero) >= options.CheckpointInterval;
    }

    private static async Task<(AuditCheckpointRecord? Last, long HeadId)> HeadAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        var last = await db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.HeadId).FirstOrDefaultAsync(cancellationToken);
        var head = await db.AuditEvents.OrderByDescending(a => a.Id).Select(a => (long?)a.Id).FirstOrDefaultAsync(cancellationToken);
        return (last, head ?? 0);
    }

    [LoggerMessage(EventId = 9011, Level = LogLevel.Information, Message = "Signed an audit checkpoint: {Count} rows up to row {HeadId}")]
    private partial void LogCheckpointMade(long count, long headId);

    [LoggerMessage(EventId = 9012, Level = LogLevel.Critical, Message = "The audit chain does not verify before row {HeadId}; no checkpoint is signed over it: {Break}")]
    private partial void LogChainBroken(long headId, string @break);

    [LoggerMessage(EventId = 9013, Level = LogLevel.Warning, Message = "Making an audit checkpoint failed")]
    private partial void LogCheckpointFailed(Exception exception);
}
