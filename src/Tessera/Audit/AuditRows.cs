using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// Audit rows in id order, read a batch at a time (each batch one query continuing after the last id seen), so a log of
/// any length is walked in constant memory and rows appended meanwhile are picked up at the end.
/// </summary>
public static class AuditRows
{
    public const int BatchSize = 1000;

    /// <param name="after">Rows with a greater id only.</param>
    /// <param name="upTo">Rows with this id or a smaller one only.</param>
    /// <param name="filter">Further conditions (time, event, ...), applied to every batch.</param>
    public static async IAsyncEnumerable<AuditRecord> ReadAsync(TesseraDbContext db, long after = 0, long upTo = long.MaxValue,
        Func<IQueryable<AuditRecord>, IQueryable<AuditRecord>>? filter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var last = after;
        while (true)
        {
            var from = last;
            var query = db.AuditEvents.AsNoTracking().Where(a => a.Id > from && a.Id <= upTo);
            if (filter is not null)
            {
                query = filter(query);
            }

            var batch = await query.OrderBy(a => a.Id).Take(BatchSize).ToListAsync(cancellationToken);
            foreach (var row in batch)
            {
                yield return row;
            }

            if (batch.Count < BatchSize)
            {
                yield break;
            }

            last = batch[^1].Id;
        }
    }
}
