using Tessera.Audit;
using System.Text.RegularExpressions;
using static Tessera.Hosting.TesseraOptionsValidator;

namespace Tessera.Hosting;

/// <summary>Checks <c>Audit</c>: how often the chain's head is signed, how long rows are kept, and where they are streamed.</summary>
public static partial class AuditOptionsValidator
{
    public const int MaxCheckpointEvery = 1_000_000;

    public static readonly TimeSpan MinCheckpointInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxCheckpointInterval = TimeSpan.FromDays(1);
    public static readonly TimeSpan MinRetention = TimeSpan.FromDays(1);
    public static readonly TimeSpan MaxRetention = TimeSpan.FromDays(36_500);

    public static void Validate(TesseraOptions options, Action<string, string> error)
    {
        var audit = options.Audit;
        if (audit.CheckpointEvery < 1 || audit.CheckpointEvery > MaxCheckpointEvery)
        {
            error("$.Tessera.Audit.CheckpointEvery", $"must be between 1 and {MaxCheckpointEvery} rows");
        }

        if (audit.CheckpointInterval < MinCheckpointInterval || audit.CheckpointInterval > MaxCheckpointInterval)
        {
            error("$.Tessera.Audit.CheckpointInterval", $"must be between {MinCheckpointInterval} and {MaxCheckpointInterval}");
        }

        // Rows are removed only up to a checkpoint older than the cut, so a retention shorter than a day would keep
        // next to nothing while pretending to bound the log.
        if (audit.Retention is { } retention && (retention < MinRetention || retention > MaxRetention))
        {
            error("$.Tessera.Audit.Retention", $"must be between {MinRetention} and {MaxRetention}, or left out to keep every row");
        }

        ValidateStreams(audit.Streams, error);
    }

    public const int MaxStreamBatch = 5000;

    private static void ValidateStreams(List<AuditStreamOptions> streams, Action<string, string> error)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < streams.Count; i++)
        {
            var stream = streams[i];
            var path = $"$.Tessera.Audit.Streams[{i}]";
            if (!IdentifierPattern().IsMatch(stream.Id))
            {
                error($"{path}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
            }
            else if (!ids.Add(stream.Id))
            {
                error($"{path}.Id", $"'{stream.Id}' is used by another stream");
            }

            if (stream.Endpoint is null)
            {
                error($"{path}.Endpoint", "the URL batches are posted to is required");
            }
            else
            {
                SignalOptionsValidator.ValidateHttpUri(stream.Endpoint, $"{path}.Endpoint", error);
            }

            if (!AuditExport.Formats.Contains(stream.Format))
            {
                error($"{path}.Format", $"must be one of {string.Join(", ", AuditExport.Formats)}");
            }

            for (var e = 0; e < stream.Events.Count; e++)
            {
                if (!EventPattern().IsMatch(stream.Events[e]))
                {
                    error($"{path}.Events[{e}]", "must be an event name such as signin.succeeded, or a family such as signin.*");
                }
            }

            if (stream.BatchSize < 1 || stream.BatchSize > MaxStreamBatch)
            {
                error($"{path}.BatchSize", $"must be between 1 and {MaxStreamBatch} rows");
            }

            if (stream.Timeout < TimeSpan.FromMilliseconds(100) || stream.Timeout > TimeSpan.FromMinutes(5))
            {
                error($"{path}.Timeout", $"must be between {TimeSpan.FromMilliseconds(100)} and {TimeSpan.FromMinutes(5)}");
            }

            if (stream.MaxRetryDelay < TimeSpan.FromSeconds(1) || stream.MaxRetryDelay > TimeSpan.FromHours(6))
            {
                error($"{path}.MaxRetryDelay", $"must be between {TimeSpan.FromSeconds(1)} and {TimeSpan.FromHours(6)}");
            }

            if (stream.From is not (AuditStreamOptions.FromBeginning or AuditStreamOptions.FromNow))
            {
                error($"{path}.From", "must be 'beginning' or 'now'");
            }
        }
    }

    [GeneratedRegex(@"^[a-z][a-z_]{0,49}\.([a-z][a-z_]{0,49}|\*)$")]
    private static partial Regex EventPattern();
}
