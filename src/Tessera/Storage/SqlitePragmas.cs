using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Tessera.Storage;

/// <summary>
/// With the write-ahead log, <c>synchronous=NORMAL</c> is SQLite's recommended setting: commits survive a crash of the
/// process and the database never corrupts; only the last commits before a power loss may be lost. The default
/// (FULL) syncs the disk on every commit. The setting belongs to the native connection, which the provider pools
/// behind each open and close, so it is applied once per native connection rather than on every open.
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    private static readonly ConditionalWeakTable<object, object> Applied = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle } && Applied.TryGetValue(handle, out _))
        {
            return;
        }

        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=NORMAL;";
        command.ExecuteNonQuery();
        if (connection is SqliteConnection { Handle: { } opened })
        {
            Applied.AddOrUpdate(opened, Applied);
        }
    }
}
