using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Tests.Storage;

/// <summary>
/// Tessera's storage wired as <c>AddTesseraStorage</c> wires it, on a SQLite database of the test's own in a temporary
/// directory, whichever storage the rest of the suite runs on.
/// </summary>
internal sealed class OwnSqliteStorage : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"tessera-sqlite-{Guid.NewGuid():N}");

    private OwnSqliteStorage()
    {
        System.IO.Directory.CreateDirectory(_directory);
        ConnectionString = $"Data Source={Path.Combine(_directory, "tessera.db")}";
        Services = new ServiceCollection()
            .AddLogging()
            .AddTesseraStorage(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = ConnectionString })
            .BuildServiceProvider();
    }

    public string ConnectionString { get; }

    public ServiceProvider Services { get; }

    /// <summary>A new database with the model's tables.</summary>
    public static async Task<OwnSqliteStorage> CreateAsync()
    {
        var storage = new OwnSqliteStorage();
        await using var scope = storage.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TesseraDbContext>().Database.EnsureCreatedAsync();
        return storage;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        using (var connection = new SqliteConnection(ConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        System.IO.Directory.Delete(_directory, recursive: true);
    }
}
