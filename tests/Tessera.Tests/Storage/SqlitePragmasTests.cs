using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Tessera.Storage;

namespace Tessera.Tests.Storage;

/// <summary>The settings every native SQLite connection gets, whichever storage the rest of the suite runs on.</summary>
public sealed class SqlitePragmasTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"tessera-pragmas-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task Every_native_connection_waits_for_the_write_lock_in_SQLites_busy_handler_and_syncs_normally()
    {
        var options = new DbContextOptionsBuilder<SqliteTesseraDbContext>()
            .UseSqlite($"Data Source={_file}")
            .AddInterceptors(new SqlitePragmas())
            .Options;

        // Twice: the second open takes the pooled native connection, which keeps what the first one set.
        for (var open = 0; open < 2; open++)
        {
            await using var db = new SqliteTesseraDbContext(options);
            await db.Database.OpenConnectionAsync();
            Assert.Equal(SqlitePragmas.BusyTimeoutMilliseconds, await PragmaAsync(db, "busy_timeout"));
            Assert.Equal(1, await PragmaAsync(db, "synchronous")); // NORMAL
        }

        // A connection the interceptor never saw keeps SQLite's defaults: the settings are the interceptor's doing.
        await using var plain = new SqliteConnection($"Data Source={_file};Pooling=False");
        await plain.OpenAsync();
        await using var command = plain.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout;";
        Assert.Equal(0L, await command.ExecuteScalarAsync());
    }

    private static async Task<long> PragmaAsync(TesseraDbContext db, string name)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"PRAGMA {name};";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(_file);
    }
}
