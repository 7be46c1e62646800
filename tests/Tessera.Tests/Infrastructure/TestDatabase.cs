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

        var directory = Path.Combine(Path.GetTempPath(), "tessera-tests");
        System.IO.Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".db");
        return new TestDatabase(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = $"Data Source={path}" }, path, null, null);
    }

    /// <summary>
    /// Makes the database unreachable for the server until the result is disposed: on PostgreSQL the database stops
    /// accepting connections and the server's are ended; on SQLite a directory takes the file's place. Either way the
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

        var path = _sqlitePath!;
        var aside = path + ".aside";
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            if (File.Exists(path + suffix))
            {
                File.Move(path + suffix, aside + suffix);
            }
        }

        System.IO.Directory.CreateDirectory(path);
        using (var pooled = new SqliteConnection(Tessera.Storage.StorageServiceCollectionExtensions.SqliteConnectionString(Storage.ConnectionString)))
        {
            SqliteConnection.ClearPool(pooled);
        }

        return new Restore(() =>
        {
            System.IO.Directory.Delete(path);
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                if (File.Exists(aside + suffix))
                {
                    File.Move(aside + suffix, path + suffix);
                }
            }

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
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                try
                {
                    File.Delete(_sqlitePath + suffix);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}
