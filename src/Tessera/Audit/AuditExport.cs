using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// Audit rows written one JSON object per line, as they stream from the database. <c>jsonl</c> keeps every column as
/// stored: <c>occurred_at</c> in the exact form the hash covers and <c>detail</c> as its stored JSON text, so anyone can
/// recompute each row's hash and the chain from the file alone. <c>ocsf</c> maps each row with <see cref="OcsfMapping"/>.
/// </summary>
public static class AuditExport
{
    public const string Jsonl = "jsonl";
    public const string Ocsf = "ocsf";

    public static IReadOnlyList<string> Formats { get; } = [Jsonl, Ocsf];

    /// <summary>Writes the rows; returns how many.</summary>
    public static async Task<long> WriteAsync(IAsyncEnumerable<AuditRecord> rows, string format, TextWriter output, CancellationToken cancellationToken)
    {
        var map = Mapping(format);
        long written = 0;
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            await output.WriteLineAsync(Line(map(row)));
            written++;
        }

        await output.FlushAsync(cancellationToken);
        return written;
    }

    /// <summary>How a row becomes a line's object in <paramref name="format"/>.</summary>
    public static Func<AuditRecord, JsonObject> Mapping(string format) => format switch
    {
        Jsonl => Columns,
        Ocsf => OcsfMapping.Map,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "jsonl or ocsf"),
    };

    /// <summary>One line of an export or a stream, without its newline.</summary>
    public static string Line(JsonObject row) => row.ToJsonString(JsonOptions);

    /// <summary>Every column, named as the Admin API names them.</summary>
    public static JsonObject Columns(AuditRecord row) => new()
    {
        ["id"] = row.Id,
        ["occurred_at"] = AuditChain.Timestamp(row.OccurredAt),
        ["event"] = row.Event,
        ["outcome"] = row.Outcome,
        ["organization"] = row.OrganizationId,
        ["user"] = row.UserId,
        ["client"] = row.ClientId,
        ["connection"] = row.ConnectionId,
        ["ip_address"] = row.IpAddress,
        ["user_agent"] = row.UserAgent,
        ["reason"] = row.Reason,
        ["detail"] = row.Detail,
        ["previous_hash"] = row.PreviousHash,
        ["hash"] = row.Hash,
    };

    // Lines are read by programs, never embedded in HTML: quotes and non-ASCII text stay as they are, not \u-escaped.
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
