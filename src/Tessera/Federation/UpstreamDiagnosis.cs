namespace Tessera.Federation;

/// <summary>One check of a connection test, for the admin who configures the connection (never shown to end users).</summary>
/// <param name="Check">A stable machine name from <see cref="UpstreamChecks"/>.</param>
/// <param name="Summary">What went wrong, in one plain sentence.</param>
/// <param name="Hint">What to change, and where, to fix it.</param>
public sealed record UpstreamDiagnosis(string Check, string Summary, string Hint)
{
    /// <summary>What Tessera expects: an audience, entity id, fingerprint, URL, key id. Never a secret.</summary>
    public string? Expected { get; init; }

    /// <summary>What the IdP sent instead, as it sent it (bounded), or null when it sent nothing.</summary>
    public string? Received { get; init; }

    /// <summary>Measured IdP clock minus Tessera clock, for skew failures.</summary>
    public TimeSpan? ClockOffset { get; init; }
}
