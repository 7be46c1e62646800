using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tessera.Directory;
using Tessera.Scim.Benchmarks;
using Tessera.Storage;

// SCIM list queries over a directory of USERS users (default 100,000) on SQLite and, when TESSERA_BENCH_POSTGRES holds an
// admin connection string, on PostgreSQL: for each filter, what the list endpoint runs — the count (totalResults) and
// one page of 100 users in the default order, materialized — timed end to end. Prints median and p95 in ms per
// filter and provider, and writes the query plans to OUT (default bench/results/scim-list-<time>).
var invariant = CultureInfo.InvariantCulture;
var users = int.Parse(Environment.GetEnvironmentVariable("USERS") ?? "100000", invariant);
var runs = int.Parse(Environment.GetEnvironmentVariable("RUNS") ?? "50", invariant);
var output = Environment.GetEnvironmentVariable("OUT") ?? Path.Combine("bench", "results", "scim-list-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", invariant));
Directory.CreateDirectory(output);
var generator = new DirectoryGenerator(users, groups: 200);

// Targets rotate through users spread over the directory, so no run repeats the previous one's lookup.
int Target(int run) => (int)((run * 7_919L + 12_345) % users);
var filters = new (string Name, Func<int, string> Filter)[]
{
    ("userName eq", r => $"userName eq \"{DirectoryGenerator.UserName(Target(r))}\""),
    ("externalId eq", r => $"externalId eq \"{DirectoryGenerator.ExternalId(Target(r))}\""),
    ("emails[type eq work and value eq]", r => $"emails[type eq \"work\" and value eq \"{DirectoryGenerator.UserName(Target(r))}\"]"),
    ("name.familyName sw", r => $"name.familyName sw \"{DirectoryGenerator.Family(Target(r))[..5]}\""),
    ("active eq true", _ => "active eq true"),
    ("meta.lastModified gt", _ => $"meta.lastModified gt \"{generator.LastWeek.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", invariant)}\""),
    ("userName co", r => $"userName co \"{DirectoryGenerator.Family(Target(r)).ToLowerInvariant()[1..5]}\""),
    ("no filter", _ => ""),
};

var providers = new List<(string Name, Func<TesseraDbContext> Open, Func<Task> Cleanup)>();
var sqlitePath = Path.GetFullPath(Path.Combine(output, "scim.db"));
var sqliteOptions = new DbContextOptionsBuilder<SqliteTesseraDbContext>()
    .UseSqlite(StorageServiceCollectionExtensions.SqliteConnectionString($"Data Source={sqlitePath}"))
    .AddInterceptors(new SqlitePragmas()).Options;
providers.Add(("SQLite", () => new SqliteTesseraDbContext(sqliteOptions), () => Task.CompletedTask));

if (Environment.GetEnvironmentVariable("TESSERA_BENCH_POSTGRES") is { Length: > 0 } admin)
{
    var name = "tessera_bench_scim";
    await Postgres(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    await Postgres(admin, $"CREATE DATABASE {name}");
    var postgresOptions = new DbContextOptionsBuilder<PostgresTesseraDbContext>()
        .UseNpgsql(new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString).Options;
    providers.Add(("PostgreSQL", () => new PostgresTesseraDbContext(postgresOptions), () => Postgres(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
}

var table = new List<string> { "| filter | provider | matches | median ms | p95 ms |", "| --- | --- | ---: | ---: | ---: |" };
var results = new List<(string Filter, string Provider, int Matches, double Median, double P95)>();
foreach (var (provider, open, cleanup) in providers)
{
    Console.WriteLine($"{provider}: seeding {users} users and 200 groups");
    var seeding = Stopwatch.StartNew();
    await using (var db = open())
    {
        var reuse = Environment.GetEnvironmentVariable("REUSE") == "1" && await db.Database.CanConnectAsync()
            && !(await db.Database.GetPendingMigrationsAsync()).Any() && await db.DirectoryUsers.CountAsync() == users;
        if (!reuse)
        {
            await db.Database.EnsureDeletedAsync();
            await db.Database.MigrateAsync();
            if (db.Database.IsSqlite())
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            }

            await generator.SeedAsync(open);
        }
    }
    await using (var db = open())
    {
        // A directory in steady state, as the server keeps it: on PostgreSQL autovacuum has vacuumed and analyzed the
        // tables (VACUUM also marks pages all-visible, which lets a count run on an index alone); SQLite has the
        // statistics Tessera refreshes after migrating and with every sweep. SQLITE_ANALYZE=0 measures SQLite without.
        if (!db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE directory_users");
            await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE directory_user_values");
            await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE directory_members");
            await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE directory_groups");
        }
        else if (Environment.GetEnvironmentVariable("SQLITE_ANALYZE") != "0")
        {
            await Tessera.Storage.PlannerStatistics.RefreshAsync(db, CancellationToken.None);
        }
    }

    Console.WriteLine($"{provider}: seeded in {seeding.Elapsed.TotalSeconds:F0} s");
    await using var plans = new StreamWriter(Path.Combine(output, $"plans-{provider}.txt"));
    foreach (var (label, filter) in filters)
    {
        var times = new List<double>();
        var matches = 0;
        for (var run = -5; run < runs; run++)
        {
            var text = filter(Math.Max(run, 0) + 1);
            var clock = Stopwatch.StartNew();
            await using var db = open();
            var query = ScimUserQuery.Users(db, DirectoryGenerator.Organization, text.Length == 0 ? null : ScimFilterParser.Parse(text));
            var total = await query.CountAsync();
            var page = await ScimUserQuery.Order(query, null, total).Take(100).AsNoTracking().ToListAsync();
            clock.Stop();
            if (run >= 0)
            {
                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            matches = total;
            if (run == 0)
            {
                await Explain(plans, db, label + ": " + text, query.Select(u => u.UserId).Take(int.MaxValue), ScimUserQuery.Order(query, null, matches).Take(100));
            }

            if (total > 0 && page.Count == 0)
            {
                throw new InvalidOperationException($"{label}: {total} matches but an empty page");
            }
        }

        times.Sort();
        var median = times[times.Count / 2];
        var p95 = times[(int)Math.Ceiling(times.Count * 0.95) - 1];
        results.Add((label, provider, matches, median, p95));
        Console.WriteLine($"{provider,-10} {label,-36} {matches,7} matches  median {median,7:F2} ms  p95 {p95,7:F2} ms");
    }

    await cleanup();
}

foreach (var (label, provider, matches, median, p95) in results.OrderBy(r => Array.FindIndex(filters, f => f.Name == r.Filter)).ThenBy(r => r.Provider, StringComparer.Ordinal))
{
    table.Add(string.Create(invariant, $"| `{label}` | {provider} | {matches} | {median:F2} | {p95:F2} |"));
}

await File.WriteAllLinesAsync(Path.Combine(output, "results.md"), table);
Console.WriteLine();
Console.WriteLine(string.Join(Environment.NewLine, table));
Console.WriteLine($"plans and results: {output}");
var slow = results.Where(r => r.Median >= 50).ToList();
return slow.Count == 0 ? 0 : 3;

static async Task Postgres(string admin, string sql)
{
    await using var connection = new NpgsqlConnection(admin);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync();
}

// The plan of the count and of the page, as the provider runs them with the same parameters.
static async Task Explain<T>(StreamWriter plans, TesseraDbContext db, string title, IQueryable<Guid> count, IQueryable<T> page)
{
    await plans.WriteLineAsync("## " + title);
    foreach (var query in new IQueryable[] { count, page })
    {
        await using DbCommand command = query is IQueryable<Guid> ids ? ids.CreateDbCommand() : ((IQueryable<T>)query).CreateDbCommand();
        await plans.WriteLineAsync(command.CommandText);
        command.CommandText = (db.Database.IsSqlite() ? "EXPLAIN QUERY PLAN " : "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ") + command.CommandText;
        await db.Database.OpenConnectionAsync();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            await plans.WriteLineAsync("  " + string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(reader.GetValue)));
        }

        await plans.WriteLineAsync();
    }
}
