using System.Buffers;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// The INSERT the audit writer issues, for SQLite and PostgreSQL alike (both take double-quoted identifiers and
/// named parameters). Column names follow the EF model of <see cref="AuditRecord"/>. SQLite runs in-process, so one
/// prepared single-row statement stepped per row is cheapest, and it is bound and stepped through the connection's
/// own SQLite handle: Microsoft.Data.Sqlite looks every parameter up by name and makes a binder object for it on every
/// execution, more work than the row's insert itself. The values bound are the ones it would bind. PostgreSQL is a
/// round trip away, so rows go in multi-row statements.
/// </summary>
internal static class AuditInsert
{
    private const int RowsPerStatement = 100;

    private static readonly string[] Columns =
    [
        "OccurredAt", "Event", "Outcome", "OrganizationId", "UserId", "ClientId", "ConnectionId",
        "IpAddress", "UserAgent", "Reason", "Detail", "PreviousHash", "Hash",
    ];

    private static readonly ConcurrentDictionary<int, string> Statements = new();

    public static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, bool inProcess, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (inProcess)
        {
            // The transaction is the connection's; SQLite has one per connection, so statements on its handle run in it.
            Insert(((SqliteConnection)connection).Handle!, records, cancellationToken);
            return;
        }

        foreach (var chunk in records.Chunk(RowsPerStatement))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Statement(chunk.Length);
            for (var row = 0; row < chunk.Length; row++)
            {
                SetValues(AddParameters(command, row), chunk[row]);
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The rows, one step of one prepared statement each, inside the transaction the connection holds.</summary>
    private static void Insert(sqlite3 database, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        Check(raw.sqlite3_prepare_v2(database, Statement(1), out var statement), database);
        var utf8 = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            using (statement)
            {
                foreach (var r in records)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    string?[] values =
                    [
                        // As Microsoft.Data.Sqlite writes a DateTime (and EF Core's SQLite provider reads it back).
                        r.OccurredAt.ToString(@"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF", CultureInfo.InvariantCulture),
                        r.Event, r.Outcome, r.OrganizationId, r.UserId, r.ClientId, r.ConnectionId, r.IpAddress, r.UserAgent, r.Reason,
                        r.Detail, r.PreviousHash, r.Hash,
                    ];
                    for (var column = 0; column < values.Length; column++)
                    {
                        Check(Bind(statement, column + 1, values[column], ref utf8), database);
                    }

                    var stepped = raw.sqlite3_step(statement);
                    raw.sqlite3_reset(statement);
                    Check(stepped == raw.SQLITE_DONE ? raw.SQLITE_OK : stepped, database);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    /// <summary>A value bound as Microsoft.Data.Sqlite binds a string (its UTF-8, invalid UTF-16 replaced) or a null.</summary>
    private static int Bind(sqlite3_stmt statement, int index, string? value, ref byte[] utf8)
    {
        if (value is null)
        {
            return raw.sqlite3_bind_null(statement, index);
        }

        if (Encoding.UTF8.GetMaxByteCount(value.Length) > utf8.Length)
        {
            ArrayPool<byte>.Shared.Return(utf8);
            utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        }

        var length = Encoding.UTF8.GetBytes(value, utf8);
        return raw.sqlite3_bind_text(statement, index, utf8.AsSpan(0, length));
    }

    private static void Check(int result, sqlite3 database)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, database);
        }
    }

    private static string Statement(int rows) => Statements.GetOrAdd(rows, static count =>
    {
        var sql = new StringBuilder("INSERT INTO \"audit_events\" (")
            .AppendJoin(", ", Columns.Select(c => $"\"{c}\""))
            .Append(") VALUES ");
        for (var row = 0; row < count; row++)
        {
            sql.Append(row == 0 ? "(" : ", (").AppendJoin(", ", Columns.Select((_, column) => $"@p{row}_{column}")).Append(')');
        }

        return sql.ToString();
    });

    private static DbParameter[] AddParameters(DbCommand command, int row)
    {
        var parameters = new DbParameter[Columns.Length];
        for (var column = 0; column < Columns.Length; column++)
        {
            parameters[column] = command.CreateParameter();
            parameters[column].ParameterName = $"@p{row}_{column}";
            command.Parameters.Add(parameters[column]);
        }

        return parameters;
    }

    private static void SetValues(DbParameter[] parameters, AuditRecord r)
    {
        object?[] values =
        [
            DateTime.SpecifyKind(r.OccurredAt, DateTimeKind.Utc), r.Event, r.Outcome, r.OrganizationId, r.UserId, r.ClientId,
            r.ConnectionId, r.IpAddress, r.UserAgent, r.Reason, r.Detail, r.PreviousHash, r.Hash,
        ];
        for (var column = 0; column < values.Length; column++)
        {
            parameters[column].Value = values[column] ?? DBNull.Value;
        }
    }
}
