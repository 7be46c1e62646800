using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// The INSERT the audit writer issues, for SQLite and PostgreSQL alike (both take double-quoted identifiers and
/// named parameters). Column names follow the EF model of <see cref="AuditRecord"/>. SQLite runs in-process, so one
/// prepared single-row statement executed per row is cheapest; PostgreSQL is a round trip away, so rows go in
/// multi-row statements.
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
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Statement(1);
            var parameters = AddParameters(command, row: 0);
            command.Prepare();
            foreach (var record in records)
            {
                SetValues(parameters, record);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

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
