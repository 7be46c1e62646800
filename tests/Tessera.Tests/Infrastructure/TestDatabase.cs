using Microsoft.Data.Sqlite;
using Npgsql;
using Tessera.Hosting;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// A fresh, empty database per test host: a SQLite file, or, when TESSERA_TEST_POSTGRES holds a connection
/// string, a new PostgreSQL database on that server (dropped afterwards).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "TESSERA_TEST_POSTGRES";

    private readonly string? _sqlitePath;
    private readonly string? _postgresAdmin;
    private readonly string? _postgresName;

    private TestDatabase(StorageOptions storage, string? sqlitePath, string? postgresAdmin, string? postgresName)
    {
        Storage = storage;
        _sqlitePath = sqlitePath;
        _postgresAdmin = postgresAdmin;
        _postgresName = postgresName;
    }

    public StorageOptions Storage { get; }

    public bool IsPostgres => _postgresName is not null;

    public static string? PostgresServer => Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value ? value : null;

    public static async Task<TestDatabase> CreateAsync()
    {
        if (PostgresServer is { } admin)
        {
            var name = "tessera_t_" + Guid.NewGuid().ToString("N");
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await command.ExecuteNonQueryAsync();
            }

            var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 20 };
            return new TestDatabase(new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = builder.ConnectionString }, null, admin, name);
        }

        // A directory of its own, so that an outage can take the database, its write-ahead log and its shared memory
        // away at once (see MakeUnreachableAsync).
        var directory = Path.Combine(Path.GetTempPath(), "tessera-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "tessera.db");
        return new TestDatabase(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = $"Data Source={path}" }, path, null, null);
    }

    /// <summary>
    /// Makes the database unreachable for the server until the result is disposed: on PostgreSQL the database stops
    /// accepting connections and the server's are ended; on SQLite the database's directory is renamed away. Either way the
    /// server's pool is emptied, so its next query has to connect anew.
    /// </summary>
    public async Task<IAsyncDisposable> MakeUnreachableAsync()
    {
        if (_postgresName is not null)
        {
            await AdminAsync($"ALTER DATABASE \"{_postgresName}\" WITH ALLOW_CONNECTIONS false");
            await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_postgresName}'");
            NpgsqlConnection.ClearPool(new NpgsqlConnection(Storage.ConnectionString));
            return new Restore(() => AdminAsync($"ALTER DATABASE \"{_postgresName}\" WITH ALLOW_CONNECTIONS true"));
        }

        // The database's directory is renamed away: one atomic step, after which no connection can open the file or
        // create a new one in its place (its directory is gone), and the log and shared memory stay with it. Moving
        // the files one by one left moments in which a connection retrying meanwhile made a new, empty database.
        var directory = Path.GetDirectoryName(_sqlitePath!)!;
        var aside = directory + ".aside";
        var pooledConnections = Tessera.Storage.StorageServiceCollectionExtensions.SqliteConnectionString(Storage.ConnectionString); // before: it creates the directory
        System.IO.Directory.Move(directory, aside);
        using (var pooled = new SqliteConnection(pooledConnections))
        {
            SqliteConnection.ClearPool(pooled);
        }

        return new Restore(() =>
        {
            System.IO.Directory.Move(aside, directory);
            return Task.CompletedTask;
        });
    }

    private async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_postgresAdmin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed class Restore(Func<Task> restore) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await restore();
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgresName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_postgresAdmin);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresName}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }

        if (_sqlitePath is not null)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                System.IO.Directory.Delete(Path.GetDirectoryName(_sqlitePath)!, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
