using Microsoft.EntityFrameworkCore;

namespace Tessera.Storage;

/// <summary>Brings the database schema up to date and sets per-provider pragmas.</summary>
public sealed partial class StorageInitializer(IServiceScopeFactory scopes, ILogger<StorageInitializer> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        if (db.Database.IsSqlite())
        {
            // WAL lets readers proceed while one writer commits.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        // Nodes started together (a new deployment, a rolling upgrade) migrate one at a time: the first applies what is
        // pending, the others then find nothing left. On PostgreSQL a session lock held on this connection throughout.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (db.Database.IsNpgsql())
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({MigrationLock})", cancellationToken);
            }

            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                LogMigrating(pending.Count, string.Join(", ", pending));
                await db.Database.MigrateAsync(cancellationToken);
            }
        }
        finally
        {
            if (db.Database.IsNpgsql())
            {
                // A pooled connection outlives this use: the lock is let go here, not when the pool closes it.
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({MigrationLock})", CancellationToken.None);
            }

            await db.Database.CloseConnectionAsync();
        }

        await PlannerStatistics.RefreshAsync(db, cancellationToken);
    }

    private const long MigrationLock = 7373210; // the key ring's is 7373209

    public async Task<IReadOnlyList<string>> PendingMigrationsAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        return (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applying {Count} database migrations: {Migrations}")]
    private partial void LogMigrating(int count, string migrations);
}
