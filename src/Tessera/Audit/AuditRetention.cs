using Microsoft.EntityFrameworkCore;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// Removes audit rows older than <c>Audit.Retention</c>, but only up to the newest checkpoint signed before the cut and
/// never past the newest row, so that the rows kept still verify: the first of them carries that checkpoint's head hash
/// as its previous_hash; nor past a row an audit stream has yet to deliver. Rows go one checkpoint at a time, each step
/// in a short transaction of its own. The append-only trigger keeps refusing every other DELETE: on PostgreSQL the step
/// is the <c>audit_events_prune</c> function; on SQLite the step drops the delete trigger and puts it back inside one
/// write transaction, which no other writer can interleave with. Checkpoints are kept: they are small, hold no personal
/// data, and chain to each other.
/// </summary>
public sealed partial class AuditRetention(TesseraConfiguration configuration, TimeProvider time, ILogger<AuditRetention> logger)
{
    /// <summary>The delete trigger as the <c>AuditLogIsAppendOnly</c> migration made it, put back after each SQLite step.</summary>
    private const string SqliteDeleteTrigger =
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;";

    /// <summary>Removes what retention allows; returns the number of rows removed.</summary>
    public async Task<long> PruneAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        if (configuration.Current.Audit.Retention is not { } retention)
        {
            return 0;
        }

        var cut = (time.GetUtcNow() - retention).UtcDateTime;
        var first = await db.AuditEvents.OrderBy(a => a.Id).Select(a => (long?)a.Id).FirstOrDefaultAsync(cancellationToken);
        var newest = await db.AuditEvents.OrderByDescending(a => a.Id).Select(a => (long?)a.Id).FirstOrDefaultAsync(cancellationToken);
        if (first is null || newest is null)
        {
            return 0;
        }

        // Nor past what a stream's destination has not acknowledged yet.
        var delivered = await AuditStreams.DeliveredByAllAsync(db, configuration.Current.Audit.Streams, cancellationToken) ?? long.MaxValue;
        var steps = await db.AuditCheckpoints.AsNoTracking()
            .Where(c => c.CreatedAt < cut && c.HeadId >= first && c.HeadId < newest && c.HeadId <= delivered)
            .OrderBy(c => c.HeadId).Select(c => c.HeadId).ToListAsync(cancellationToken);
        long removed = 0;
        foreach (var upTo in steps)
        {
            removed += await PruneUpToAsync(db, upTo, cancellationToken);
        }

        if (removed > 0)
        {
            LogPruned(removed, steps[^1], retention);
        }

        return removed;
    }

    /// <summary>Removes the rows up to and including <paramref name="upTo"/>, which must be the head of a checkpoint with rows after it.</summary>
    public static async Task<long> PruneUpToAsync(TesseraDbContext db, long upTo, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        long removed;
        if (db.Database.IsNpgsql())
        {
            removed = await db.Database.SqlQuery<long>($"SELECT audit_events_prune({upTo}) AS \"Value\"").SingleAsync(cancellationToken);
        }
        else
        {
            if (!await db.AuditEvents.AnyAsync(a => a.Id <= upTo, cancellationToken))
            {
                return 0;
            }

            // The same conditions as the PostgreSQL function: the cut is a checkpoint's head that still has its hash, with rows after it.
            var anchored = await db.AuditCheckpoints.AnyAsync(c => c.HeadId == upTo && db.AuditEvents.Any(a => a.Id == upTo && a.Hash == c.HeadHash), cancellationToken)
                && await db.AuditEvents.AnyAsync(a => a.Id > upTo, cancellationToken);
            if (!anchored)
            {
                throw new InvalidOperationException($"audit_events can be pruned only up to the head of a checkpoint with rows after it, and row {upTo} is none");
            }

            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER audit_events_no_delete;", cancellationToken);
            removed = await db.Database.ExecuteSqlAsync($"DELETE FROM audit_events WHERE \"Id\" <= {upTo}", cancellationToken);
            await db.Database.ExecuteSqlRawAsync(SqliteDeleteTrigger, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return removed;
    }

    [LoggerMessage(EventId = 9021, Level = LogLevel.Information, Message = "Removed {Count} audit rows older than the retention of {Retention}, up to the checkpoint of row {HeadId}")]
    private partial void LogPruned(long count, long headId, TimeSpan retention);
}
