using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tessera.Storage;

namespace Tessera.Tests.Storage;

/// <summary>
/// SQLite's planner statistics, refreshed as Tessera refreshes them, on a database of the test's own (the rest of the
/// suite may run on PostgreSQL, whose autovacuum keeps its own). The query planned is the audit checkpoint writer's walk:
/// a range of ids, read every second while tokens are issued.
/// </summary>
public sealed class PlannerStatisticsTests : IAsyncLifetime
{
    private const int Grown = 30_000;
    private OwnSqliteStorage _storage = null!;

    private ServiceProvider Services => _storage.Services;

    public async Task InitializeAsync() => _storage = await OwnSqliteStorage.CreateAsync();

    [Fact]
    public async Task A_table_analyzed_while_small_keeps_no_statistics_so_its_walk_stays_a_search_as_it_grows()
    {
        await AppendAsync(2);
        await RefreshAsync();
        Assert.Empty(await StatisticsAsync("audit_events"));

        await AppendAsync(Grown);

        Assert.StartsWith("SEARCH", await WalkPlanAsync());
    }

    [Fact]
    public async Task A_large_table_keeps_its_statistics()
    {
        await AppendAsync(Grown);
        await RefreshAsync();

        var statistics = await StatisticsAsync("audit_events");
        Assert.NotEmpty(statistics);
        Assert.All(statistics, stat => Assert.True(long.Parse(stat.Split(' ')[0]) >= PlannerStatistics.MinimumRows, stat));
        Assert.StartsWith("SEARCH", await WalkPlanAsync());
    }

    [Fact]
    public async Task After_a_refresh_no_pooled_connection_plans_with_the_statistics_of_a_small_table()
    {
        // Statistics of two rows, as SQLite's own optimize leaves them, loaded by two pooled connections at once.
        await AppendAsync(2);
        await using (var scope = Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TesseraDbContext>().Database.ExecuteSqlRawAsync("PRAGMA optimize=0x10002");
        }

        await AppendAsync(Grown);
        Assert.All(await WalkPlansAsync(2), plan => Assert.StartsWith("SCAN", plan)); // what the refresh has to mend

        await RefreshAsync();

        Assert.All(await WalkPlansAsync(2), plan => Assert.StartsWith("SEARCH", plan));
    }

    private async Task RefreshAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        await PlannerStatistics.RefreshAsync(scope.ServiceProvider.GetRequiredService<TesseraDbContext>(), CancellationToken.None);
    }

    /// <summary>Rows appended straight into the table (the chain is not what is tested here).</summary>
    private async Task AppendAsync(int count)
    {
        await using var scope = Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TesseraDbContext>().Database.ExecuteSqlRawAsync(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {0})
            INSERT INTO "audit_events" ("OccurredAt", "Event", "Outcome", "PreviousHash", "Hash")
            SELECT '2026-12-06 00:00:00', 'token.issued', 'success', 'p', 'h' || i FROM n
            """,
            count);
    }

    private async Task<List<string>> StatisticsAsync(string table)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TesseraDbContext>().Database
            .SqlQuery<string>($"SELECT stat AS \"Value\" FROM sqlite_stat1 WHERE tbl = {table}").ToListAsync();
    }

    private async Task<string> WalkPlanAsync() => (await WalkPlansAsync(1))[0];

    /// <summary>The walk's plan on as many pooled connections, held open together so that each is a different one.</summary>
    private async Task<List<string>> WalkPlansAsync(int connections)
    {
        var scopes = Enumerable.Range(0, connections).Select(_ => Services.CreateAsyncScope()).ToList();
        try
        {
            var plans = new List<string>();
            foreach (var scope in scopes)
            {
                var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
                await db.Database.OpenConnectionAsync();
                plans.Add(await PlanAsync(db, db.AuditEvents.AsNoTracking().Where(a => a.Id > 5 && a.Id <= 500).OrderBy(a => a.Id).Take(100)));
            }

            return plans;
        }
        finally
        {
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }
    }

    private static async Task<string> PlanAsync<T>(TesseraDbContext db, IQueryable<T> query)
    {
        var lines = query.ToQueryString().Split('\n');
        await using var command = (SqliteCommand)db.Database.GetDbConnection().CreateCommand();
        foreach (var line in lines.Where(l => l.StartsWith(".param set ", StringComparison.Ordinal)))
        {
            var parts = line.Split(' ');
            command.Parameters.AddWithValue(parts[2], long.Parse(parts[3]));
        }

        command.CommandText = "EXPLAIN QUERY PLAN " + string.Join('\n', lines.Where(l => !l.StartsWith('.')));
        await using var reader = await command.ExecuteReaderAsync();
        var plan = new List<string>();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(3));
        }

        return string.Join("; ", plan);
    }

    public async Task DisposeAsync() => await _storage.DisposeAsync();
}
