using System.Security.Cryptography;
using System.Text.Json;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// The hash chain over audit rows: each row's hash covers its content and the previous row's hash, so editing,
/// deleting or reordering any row breaks every hash after it.
/// </summary>
public static class AuditChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>
    /// The row's hash. It runs once per row appended and once per row walked, so the array is written straight to UTF-8
    /// (no boxed array, no intermediate string) by a writer with <see cref="JsonSerializer"/>'s defaults: the same bytes.
    /// </summary>
    public static string Compute(AuditRecord record)
    {
        var json = ScratchJson.Start();
        json.WriteStartArray();
        json.WriteStringValue(record.PreviousHash);
        Span<char> occurredAt = stackalloc char[40];
        json.WriteStringValue(occurredAt[..Timestamp(record.OccurredAt, occurredAt)]);
        foreach (var value in (ReadOnlySpan<string?>)[record.Event, record.Outcome, record.OrganizationId, record.UserId, record.ClientId,
                     record.ConnectionId, record.IpAddress, record.UserAgent, record.Reason, record.Detail])
        {
            json.WriteStringValue(value); // null as null
        }

        json.WriteEndArray();
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(ScratchJson.Written(json), hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The time as the hash covers it: ISO 8601 round-trip form in UTC (<c>2026-12-06T03:37:47.1234560Z</c>).</summary>
    public static string Timestamp(DateTime occurredAt)
    {
        Span<char> text = stackalloc char[40];
        return new string(text[..Timestamp(occurredAt, text)]);
    }

    private static int Timestamp(DateTime occurredAt, Span<char> destination) =>
        occurredAt.ToUniversalTime().TryFormat(destination, out var written, "O", System.Globalization.CultureInfo.InvariantCulture) ? written
        : throw new FormatException("A round-trip timestamp is 28 characters.");

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
