namespace Tessera.Hosting;

/// <summary>Checks <c>Audit</c>: how often the chain's head is signed, and how long rows are kept.</summary>
public static class AuditOptionsValidator
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
    }
}
