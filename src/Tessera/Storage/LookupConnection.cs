using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Tessera.Storage;

/// <summary>
/// A connection for one plain SQL lookup on a hot path. On SQLite it is a connection of its own from the provider's
/// pool: one opened through EF re-registers EF's SQL functions with SQLite on every open, which costs several times
/// more than an indexed read. Elsewhere it is the context's own connection, opened for the lookup if it was closed.
/// </summary>
public sealed class LookupConnection : IAsyncDisposable
{
    private readonly bool _dispose;
    private readonly bool _close;

    private LookupConnection(DbConnection connection, bool dispose, bool close)
    {
        Connection = connection;
        _dispose = dispose;
        _close = close;
    }

    public DbConnection Connection { get; }

    /// <summary>A Guid as the store keeps it: EF Core writes it to SQLite as upper-case text.</summary>
    public object Guid(System.Guid value) => Connection is SqliteConnection ? value.ToString().ToUpperInvariant() : value;

    public static async Task<LookupConnection> OpenAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.IsSqlite())
        {
            var own = new SqliteConnection(db.Database.GetConnectionString());
            await own.OpenAsync(cancellationToken);
            return new LookupConnection(own, dispose: true, close: true);
        }

        var shared = db.Database.GetDbConnection();
        var closed = shared.State != ConnectionState.Open;
        if (closed)
        {
            await shared.OpenAsync(cancellationToken);
        }

        return new LookupConnection(shared, dispose: false, close: closed);
    }

    public async ValueTask DisposeAsync()
    {
        if (_close)
        {
            await Connection.CloseAsync();
        }

        if (_dispose)
        {
            await Connection.DisposeAsync();
        }
    }
}
