using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Storage;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// What someone with write access to the database can do to the audit log: switch off the append-only trigger as the
/// migration made it (SQLite: drop it; PostgreSQL: disable it), then edit, delete, insert and move rows, recomputing
/// hashes where that hides the change best.
/// </summary>
public sealed class AuditTampering(TesseraTestServer server)
{
    public async Task DisableAppendOnlyAsync() => await Sql(server.IsPostgres
        ? ["ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete"]
        : ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]);

    public Task<List<AuditRecord>> RowsAsync() =>
        server.WithDbAsync(db => db.AuditEvents.AsNoTracking().OrderBy(a => a.Id).ToListAsync());

    public Task EditReasonAsync(long id, string reason) =>
        server.WithDbAsync(db => db.AuditEvents.Where(a => a.Id == id).ExecuteUpdateAsync(s => s.SetProperty(a => a.Reason, reason)));

    /// <summary>Edits a row and recomputes its own hash (not its successor's link to it).</summary>
    public async Task EditAndRehashAsync(long id, string reason)
    {
        var row = (await RowsAsync()).Single(r => r.Id == id);
        row.Reason = reason;
        var hash = AuditChain.Compute(row);
        await server.WithDbAsync(db => db.AuditEvents.Where(a => a.Id == id).ExecuteUpdateAsync(s => s.SetProperty(a => a.Reason, reason).SetProperty(a => a.Hash, hash)));
    }

    public Task DeleteAsync(Func<long, bool> which) => server.WithDbAsync(async db =>
    {
        var ids = (await db.AuditEvents.Select(a => a.Id).ToListAsync()).Where(which).ToList();
        return await db.AuditEvents.Where(a => ids.Contains(a.Id)).ExecuteDeleteAsync();
    });

    /// <summary>Moves every row after <paramref name="after"/> one id up and puts a forged row, chained to it, in the gap.</summary>
    public async Task<long> InsertForgedAfterAsync(long after)
    {
        var previous = (await RowsAsync()).Single(r => r.Id == after);
        await Sql([
            $"UPDATE audit_events SET \"Id\" = -\"Id\" WHERE \"Id\" > {after}",
            "UPDATE audit_events SET \"Id\" = 1 - \"Id\" WHERE \"Id\" < 0",
        ]);
        var forged = new AuditRecord
        {
            Id = after + 1,
            OccurredAt = previous.OccurredAt,
            Event = AuditEvents.SignInSucceeded,
            Outcome = AuditEvent.Success,
            UserId = Guid.NewGuid().ToString(),
            Reason = "nothing to see here",
            PreviousHash = previous.Hash,
        };
        forged.Hash = AuditChain.Compute(forged);
        await server.WithDbAsync(async db =>
        {
            db.AuditEvents.Add(forged);
            return await db.SaveChangesAsync();
        });
        if (server.IsPostgres)
        {
            await Sql(["SELECT setval(pg_get_serial_sequence('audit_events', 'Id'), (SELECT max(\"Id\") FROM audit_events))"]);
        }

        return forged.Id;
    }

    /// <summary>Swaps the places of two rows (their ids), each keeping its content and hashes.</summary>
    public Task SwapAsync(long a, long b) => Sql([
        $"UPDATE audit_events SET \"Id\" = -1 WHERE \"Id\" = {a}",
        $"UPDATE audit_events SET \"Id\" = {a} WHERE \"Id\" = {b}",
        $"UPDATE audit_events SET \"Id\" = {b} WHERE \"Id\" = -1",
    ]);

    /// <summary>Edits one row and recomputes every hash from it on, so the chain holds again from end to end.</summary>
    public async Task RewriteFromAsync(long id, string reason)
    {
        var rows = await RowsAsync();
        var previous = rows.LastOrDefault(r => r.Id < id)?.Hash ?? AuditChain.Genesis;
        foreach (var row in rows.Where(r => r.Id >= id))
        {
            if (row.Id == id)
            {
                row.Reason = reason;
            }

            row.PreviousHash = previous;
            row.Hash = AuditChain.Compute(row);
            previous = row.Hash;
            var (rowId, rowReason, rowPrevious, rowHash) = (row.Id, row.Reason, row.PreviousHash, row.Hash);
            await server.WithDbAsync(db => db.AuditEvents.Where(a => a.Id == rowId).ExecuteUpdateAsync(s => s
                .SetProperty(a => a.Reason, rowReason).SetProperty(a => a.PreviousHash, rowPrevious).SetProperty(a => a.Hash, rowHash)));
        }
    }

    private Task Sql(IEnumerable<string> statements) => server.WithDbAsync(async db =>
    {
        foreach (var statement in statements)
        {
            await db.Database.ExecuteSqlRawAsync(statement);
        }

        return 0;
    });
}
