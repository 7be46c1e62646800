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
