using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// The hash chain over audit rows: each row's hash covers its content and the previous row's hash, so editing,
/// deleting or reordering any row breaks every hash after it.
/// </summary>
public static class AuditChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    public static string Compute(AuditRecord record)
    {
        var canonical = JsonSerializer.Serialize(new object?[]
        {
            record.PreviousHash, Timestamp(record.OccurredAt), record.Event, record.Outcome,
            record.OrganizationId, record.UserId, record.ClientId, record.ConnectionId, record.IpAddress, record.UserAgent,
            record.Reason, record.Detail,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>The time as the hash covers it: ISO 8601 round-trip form in UTC (<c>2026-12-06T03:37:47.1234560Z</c>).</summary>
    public static string Timestamp(DateTime occurredAt) => occurredAt.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Returns the id of the first row whose hash does not hold, or null when the whole chain is intact.</summary>
    public static long? FindFirstBreak(IEnumerable<AuditRecord> rowsInOrder)
    {
        var previous = Genesis;
        foreach (var row in rowsInOrder)
        {
            if (row.PreviousHash != previous || Compute(row) != row.Hash)
            {
                return row.Id;
            }

            previous = row.Hash;
        }

        return null;
    }
}
