using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// The one INSERT the audit writer issues, for SQLite and PostgreSQL alike (both take double-quoted identifiers and
/// named parameters). Column names follow the EF model of <see cref="AuditRecord"/>.
/// </summary>
internal static class AuditInsert
{
    private static readonly string[] Columns =
    [
        "OccurredAt", "Event", "Outcome", "OrganizationId", "UserId", "ClientId", "ConnectionId",
        "IpAddress", "UserAgent", "Reason", "Detail", "PreviousHash", "Hash",
    ];

    private static readonly ConcurrentDictionary<int, string> Statements = new();

    public static string Statement(int rows) => Statements.GetOrAdd(rows, static count =>
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

    public static void Bind(DbCommand command, IReadOnlyList<AuditRecord> records)
    {
        for (var row = 0; row < records.Count; row++)
        {
            var r = records[row];
            object?[] values =
            [
                DateTime.SpecifyKind(r.OccurredAt, DateTimeKind.Utc), r.Event, r.Outcome, r.OrganizationId, r.UserId, r.ClientId,
                r.ConnectionId, r.IpAddress, r.UserAgent, r.Reason, r.Detail, r.PreviousHash, r.Hash,
            ];
            for (var column = 0; column < values.Length; column++)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = $"@p{row}_{column}";
                parameter.Value = values[column] ?? DBNull.Value;
                command.Parameters.Add(parameter);
            }
        }
    }
}
