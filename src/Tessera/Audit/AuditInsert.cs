using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using SQLitePCL;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// How the audit writer stores rows, in the transaction it holds. Column names follow the EF model of
/// <see cref="AuditRecord"/>. SQLite runs in-process, so one prepared single-row INSERT stepped per row is cheapest, and
/// it is bound and stepped through the connection's own SQLite handle: Microsoft.Data.Sqlite looks every parameter up
/// by name and makes a binder object for it on every execution, more work than the row's insert itself. The values
/// bound are the ones it would bind. PostgreSQL is a round trip away: the rows go in one binary COPY, which neither
/// side parses or plans as a statement with 13 parameters a row (identity ids are drawn in row order, as for an INSERT).
/// </summary>
internal static class AuditInsert
{
    private static readonly string[] Columns =
    [
        "OccurredAt", "Event", "Outcome", "OrganizationId", "UserId", "ClientId", "ConnectionId",
        "IpAddress", "UserAgent", "Reason", "Detail", "PreviousHash", "Hash",
    ];

    private static readonly string ColumnList = string.Join(", ", Columns.Select(c => $"\"{c}\""));

    private static readonly string InsertStatement =
        $"INSERT INTO \"audit_events\" ({ColumnList}) VALUES ({string.Join(", ", Columns.Select((_, column) => $"@p{column}"))})";

    private static readonly string CopyStatement = $"COPY \"audit_events\" ({ColumnList}) FROM STDIN (FORMAT BINARY)";

    public static async Task ExecuteAsync(DbConnection connection, bool inProcess, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (inProcess)
        {
            // The transaction is the connection's; SQLite has one per connection, so statements on its handle run in it.
            Insert(((SqliteConnection)connection).Handle!, records, cancellationToken);
            return;
        }

        // The COPY runs in the transaction the connection holds; a failure before it completes cancels it.
        await using var copy = await ((NpgsqlConnection)connection).BeginBinaryImportAsync(CopyStatement, cancellationToken);
        foreach (var r in records)
        {
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(DateTime.SpecifyKind(r.OccurredAt, DateTimeKind.Utc), NpgsqlDbType.TimestampTz, cancellationToken);
            string?[] texts = [r.Event, r.Outcome, r.OrganizationId, r.UserId, r.ClientId, r.ConnectionId, r.IpAddress, r.UserAgent, r.Reason, r.Detail, r.PreviousHash, r.Hash];
            foreach (var text in texts)
            {
                // Text's binary form is varchar's too; PostgreSQL checks each column's length as for an INSERT.
                await (text is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(text, NpgsqlDbType.Text, cancellationToken));
            }
        }

        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>The rows, one step of one prepared statement each, inside the transaction the connection holds.</summary>
    private static void Insert(sqlite3 database, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        Check(raw.sqlite3_prepare_v2(database, InsertStatement, out var statement), database);
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
}
