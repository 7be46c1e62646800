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
            record.PreviousHash, record.OccurredAt.ToUniversalTime().ToString("O"), record.Event, record.Outcome,
            record.OrganizationId, record.UserId, record.ClientId, record.ConnectionId, record.IpAddress, record.UserAgent,
            record.Reason, record.Detail,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

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
