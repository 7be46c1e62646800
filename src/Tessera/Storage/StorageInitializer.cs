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

        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            LogMigrating(pending.Count, string.Join(", ", pending));
            await db.Database.MigrateAsync(cancellationToken);
        }

        await PlannerStatistics.RefreshAsync(db, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> PendingMigrationsAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        return (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applying {Count} database migrations: {Migrations}")]
    private partial void LogMigrating(int count, string migrations);
}
