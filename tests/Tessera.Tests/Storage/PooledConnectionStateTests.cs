using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Storage;

/// <summary>
/// What one use of a pooled connection leaves for the next. On PostgreSQL, Tessera's connections are not reset between
/// uses (<c>No Reset On Close</c>, see <see cref="StorageServiceCollectionExtensions.PostgresConnectionString"/>), so
/// what the reset would have cleared must not be left behind in the first place.
/// </summary>
public sealed class PooledConnectionStateTests
{
    [Fact]
    public async Task A_pooled_connection_comes_back_with_no_transaction_and_no_lock_of_an_earlier_use()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var key = $"client:pooled-{Guid.NewGuid():N}";

        await using (var connection = Open(server))
        {
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await ScalarAsync(connection, """INSERT INTO failure_counts ("Key", "WindowStart", "Count") VALUES (@key, CURRENT_TIMESTAMP, 1)""", key, transaction);
            // Neither committed nor disposed: the connection goes back to the pool with its transaction open.
        }

        await using (var connection = Open(server))
        {
            await connection.OpenAsync();
            // Still inside the earlier transaction, this would see the row it inserted.
            Assert.Equal(0L, Convert.ToInt64(await ScalarAsync(connection, """SELECT COUNT(*) FROM failure_counts WHERE "Key" = @key""", key)));
            if (server.IsPostgres)
            {
                // The migration lock (7373210), the one session lock Tessera takes, was let go when the node started. Counted
                // in this database only: nodes of other tests migrate their own databases on the same server meanwhile.
                Assert.Equal(0L, Convert.ToInt64(await ScalarAsync(connection,
                    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7373210 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", key)));
            }
        }
    }

    /// <summary>A connection as Tessera makes it, in a pool of one, so the second open gets the physical connection the first left.</summary>
    private static DbConnection Open(TesseraTestServer server) => server.IsPostgres
        ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(StorageServiceCollectionExtensions.PostgresConnectionString(server.Options.Storage.ConnectionString)) { MaxPoolSize = 1 }.ConnectionString)
        : new SqliteConnection(server.Options.Storage.ConnectionString);

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql, string key, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "key";
        parameter.Value = key;
        command.Parameters.Add(parameter);
        return await command.ExecuteScalarAsync();
    }
}
