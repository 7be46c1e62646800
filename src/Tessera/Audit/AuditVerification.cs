namespace Tessera.Audit;

/// <summary>How the chain was found broken.</summary>
public enum AuditBreakKind
{
    /// <summary>A row's hash does not match its content.</summary>
    Edited,

    /// <summary>A row sits in the chain where no row was written: its predecessor's hash skips it.</summary>
    Inserted,

    /// <summary>A row's previous_hash is the hash of a row that comes after it.</summary>
    Reordered,

    /// <summary>Rows are missing: ids jump where the chain breaks, or a checkpoint counts rows that are not there.</summary>
    Deleted,

    /// <summary>Rows were changed and their hashes recomputed: the links or a signed checkpoint contradict them.</summary>
    Rewritten,

    /// <summary>Rows at the end are gone: a signed checkpoint covers more of the chain than the log holds.</summary>
    Truncated,
}

/// <summary>The first place the chain does not hold, with the row it is found at and the checkpoint it contradicts, if any.</summary>
public sealed record AuditBreak(AuditBreakKind Kind, long? RowId, string Description, AuditCheckpoint? Checkpoint = null)
{
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}: {Description}";
}

/// <summary>
/// What a walk of the chain found: the rows read, the chain's length from its first row ever (rows removed by retention
/// included), its head, the checkpoint it started from when older rows were removed, and the checkpoints it matched.
/// </summary>
public sealed record AuditVerification(
    long Rows,
    long Count,
    long? FirstId,
    long? HeadId,
    string HeadHash,
    AuditCheckpoint? Anchor,
    int CheckpointsMatched,
    AuditBreak? Break)
{
    public bool Intact => Break is null;
}

/// <summary>Where a walk starts when it does not start at the first row ever written: after a known head.</summary>
public sealed record AuditChainStart(long HeadId, string HeadHash, long Count);
