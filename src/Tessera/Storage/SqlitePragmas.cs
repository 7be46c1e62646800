using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Tessera.Storage;

/// <summary>
/// <para>
/// With the write-ahead log, <c>synchronous=NORMAL</c> is SQLite's recommended setting: commits survive a crash of the
/// process and the database never corrupts; only the last commits before a power loss may be lost. The default
/// (FULL) syncs the disk on every commit.
/// </para>
/// <para>
/// <c>busy_timeout</c>: a writer that finds the database's one write lock taken waits in SQLite's own busy handler,
/// which retries after 1, 2, 5, 10 ms and so on. Without it SQLite answers "busy" at once and Microsoft.Data.Sqlite
/// retries after a flat 150 ms, so under concurrent writes (sign-ins, refreshes, issuance) a request waited 150 ms
/// for a lock held a millisecond. Past the timeout the provider's own retry takes over, up to the command timeout.
/// </para>
/// <para>
/// Both belong to the native connection, which the provider pools behind each open and close, so they are applied
/// once per native connection rather than on every open.
/// </para>
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    /// <summary>How long a statement waits in SQLite's busy handler for the write lock before answering "busy".</summary>
    public const int BusyTimeoutMilliseconds = 5000;

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
        command.CommandText = $"PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={BusyTimeoutMilliseconds};";
        command.ExecuteNonQuery();
        if (connection is SqliteConnection { Handle: { } opened })
        {
            Applied.AddOrUpdate(opened, Applied);
        }
    }
}
