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
    /// Npgsql prepares the statements a connection runs often (<c>Max Auto Prepare</c>), unless the connection string
    /// says otherwise: PostgreSQL then neither parses nor plans Tessera's few dozen statements again on every request.
    /// </summary>
    public static string PostgresConnectionString(string connectionString)
    {
        // Npgsql's builder knows every keyword it has, so ask the string as written (either spelling of the keyword).
        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (written.Keys.Cast<string>().Any(key => string.Equals(key.Replace(" ", "", StringComparison.Ordinal), "MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            return connectionString;
        }

        return new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = DefaultMaxAutoPrepare }.ConnectionString;
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
