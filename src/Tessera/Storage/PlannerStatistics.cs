using Microsoft.EntityFrameworkCore;

namespace Tessera.Storage;

/// <summary>
/// Keeps the query planner's statistics current. PostgreSQL's autovacuum does this by itself; SQLite keeps statistics
/// only when asked, and without them it plans a SCIM filter over 100,000 users as a scan of the organization (seconds
/// instead of milliseconds). Run after migrating and with every sweep.
/// </summary>
public static class PlannerStatistics
{
    public static async Task RefreshAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite())
        {
            return;
        }

        // 0x10002: every table whose statistics are missing or stale, not only those this connection used;
        // analysis_limit keeps each table's pass to a sample, so a large table costs milliseconds.
        await db.Database.ExecuteSqlRawAsync("PRAGMA analysis_limit=1000", cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA optimize=0x10002", cancellationToken);
    }
}
