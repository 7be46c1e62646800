using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Tessera.Storage;

/// <summary>
/// <para>
/// Keeps the query planner's statistics current. PostgreSQL's autovacuum does this by itself; SQLite keeps statistics
/// only when asked, and without them it plans a SCIM filter over 100,000 users as a scan of the organization (seconds
/// instead of milliseconds). Run after migrating and with every sweep.
/// </para>
/// <para>
/// Statistics of a small table are dropped: they describe a table that does not stay small. A node restarted shortly
/// after its database was made analyzed an audit log of two rows, and SQLite then planned the checkpoint writer's walk
/// (a range of ids) as a scan of the whole table, which grew with every token issued: a fresh node served a third fewer
/// tokens a second than one restarted over a large log. Without statistics SQLite assumes a large table and uses the
/// indexes, which is right for every lookup Tessera makes.
/// </para>
/// <para>
/// A native connection loads statistics once, when it first reads the schema, and keeps them while the provider pools
/// it; the pool is cleared after a refresh, so every connection opened afterwards plans with what was just measured.
/// </para>
/// </summary>
public static class PlannerStatistics
{
    /// <summary>Tables with fewer rows than this (as ANALYZE counted them) keep no statistics.</summary>
    public const int MinimumRows = 10_000;

    public static async Task RefreshAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite())
        {
            return;
        }

        // One native connection throughout: analysis_limit and the reload below belong to the connection they ran on.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            // 0x10002: every table whose statistics are missing or stale, not only those this connection used;
            // analysis_limit keeps each table's pass to a sample, so a large table costs milliseconds.
            await db.Database.ExecuteSqlRawAsync("PRAGMA analysis_limit=1000", cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA optimize=0x10002", cancellationToken);
            if (await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'").SingleAsync(cancellationToken) > 0)
            {
                // The first number of each row is the table's row count; "ANALYZE sqlite_schema" reloads what is left.
                await db.Database.ExecuteSqlRawAsync($"DELETE FROM sqlite_stat1 WHERE CAST(stat AS INTEGER) < {MinimumRows}", cancellationToken);
                await db.Database.ExecuteSqlRawAsync("ANALYZE sqlite_schema", cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        if (db.Database.GetDbConnection() is SqliteConnection connection)
        {
            SqliteConnection.ClearPool(connection);
        }
    }
}
