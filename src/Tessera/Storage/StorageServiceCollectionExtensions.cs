using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Tessera.Hosting;
using Tessera.Signals;

namespace Tessera.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>Registers the provider's context (pooled) and exposes it as <see cref="TesseraDbContext"/>.</summary>
    public static IServiceCollection AddTesseraStorage(this IServiceCollection services, StorageOptions storage)
    {
        switch (storage.Provider)
        {
            case StorageProvider.Sqlite:
                services.AddDbContextPool<SqliteTesseraDbContext>((provider, options) => options
                    .UseSqlite(SqliteConnectionString(storage.ConnectionString))
                    .AddInterceptors(new SqlitePragmas(), provider.GetRequiredService<AfterCommitInterceptor>(), provider.GetRequiredService<SqliteWriteGate>())
                    .ReplaceService<IRelationalTransactionFactory, SqliteGatedTransactionFactory>());
                services.AddSingleton<SqliteWriteGate>();
                services.AddScoped<TesseraDbContext>(provider => provider.GetRequiredService<SqliteTesseraDbContext>());
                break;
            case StorageProvider.Postgres:
                services.AddDbContextPool<PostgresTesseraDbContext>((provider, options) => options
                    .UseNpgsql(PostgresConnectionString(storage.ConnectionString))
                    .AddInterceptors(provider.GetRequiredService<AfterCommitInterceptor>()));
                services.AddScoped<TesseraDbContext>(provider => provider.GetRequiredService<PostgresTesseraDbContext>());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(storage), storage.Provider, "Unknown storage provider.");
        }

        services.AddSingleton<AfterCommit>();
        services.AddSingleton<AfterCommitInterceptor>();
        services.AddSingleton<SignalWake>();
        services.AddSingleton<StorageInitializer>();
        services.AddSingleton<LookupConnections>();
        return services;
    }

    /// <summary>How many statements Npgsql prepares on each connection when the connection string does not say.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>
    /// Two settings Tessera gives Npgsql unless the connection string names them itself:
    /// <list type="bullet">
    /// <item><c>Max Auto Prepare</c>: a connection prepares the statements it runs often, so PostgreSQL neither parses nor
    /// plans Tessera's few dozen statements again on every request.</item>
    /// <item><c>No Reset On Close</c>: a connection back from the pool does not first send PostgreSQL five statements
    /// (<c>CLOSE ALL</c>, <c>UNLISTEN *</c>, <c>pg_advisory_unlock_all()</c>, <c>DISCARD SEQUENCES</c>,
    /// <c>DISCARD TEMP</c>) to clear session state, once per request that uses the database. Tessera leaves none
    /// behind on a pooled connection: it makes no temporary tables or cursors and sets no session settings, it listens
    /// only on a connection of its own outside the pool, and the one session lock it takes (the migration lock) it lets
    /// go before the connection goes back.</item>
    /// </list>
    /// </summary>
    public static string PostgresConnectionString(string connectionString)
    {
        // Npgsql's builder knows every keyword it has, so ask the string as written (either spelling of the keyword).
        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        bool Names(string keyword) =>
            written.Keys.Cast<string>().Any(key => string.Equals(key.Replace(" ", "", StringComparison.Ordinal), keyword, StringComparison.OrdinalIgnoreCase));

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!Names("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }

        if (!Names("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    /// <summary>Relative SQLite paths are taken from the working directory, and their folder is created.</summary>
    public static string SqliteConnectionString(string connectionString)
    {
        var builder = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:" && builder.Mode != Microsoft.Data.Sqlite.SqliteOpenMode.Memory)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(directory))
            {
                System.IO.Directory.CreateDirectory(directory);
            }
        }

        if (builder.DefaultTimeout < 30)
        {
            builder.DefaultTimeout = 30; // writers wait for each other instead of failing with "database is locked"
        }

        return builder.ToString();
    }
}
