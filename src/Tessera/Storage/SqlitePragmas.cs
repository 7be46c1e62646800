using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Tessera.Storage;

/// <summary>
/// With the write-ahead log, <c>synchronous=NORMAL</c> is SQLite's recommended setting: commits survive a crash of the
/// process and the database never corrupts; only the last commits before a power loss may be lost. The default
/// (FULL) syncs the disk on every commit. The setting belongs to the connection, so it is applied on every open.
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=NORMAL;";
        command.ExecuteNonQuery();
    }
}
