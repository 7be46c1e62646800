namespace Tessera.Hosting;

/// <summary>
/// The failures of a background loop that runs every second or faster while something it needs stays away (the
/// database): the first is logged, then one per interval rather than one per tick, and the recovery once.
/// </summary>
public sealed class RepeatedFailures(TimeSpan logEvery)
{
    private DateTimeOffset? _since;
    private DateTimeOffset _loggedAt = DateTimeOffset.MinValue;

    /// <summary>Counts a failure; whether to log it.</summary>
    public bool Failed(DateTimeOffset now)
    {
        _since ??= now;
        if (now - _loggedAt < logEvery)
        {
            return false;
        }

        _loggedAt = now;
        return true;
    }

    /// <summary>Counts a success; how long it had been failing, when it had.</summary>
    public TimeSpan? Succeeded(DateTimeOffset now)
    {
        if (_since is not { } since)
        {
            return null;
        }

        _since = null;
        _loggedAt = DateTimeOffset.MinValue;
        return now - since;
    }
}
