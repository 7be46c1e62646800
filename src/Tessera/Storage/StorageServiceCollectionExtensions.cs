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
                    .UseNpgsql(storage.ConnectionString)
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
