using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Tessera.Validation;

/// <summary>
/// The <c>jti</c>s of applied SETs, remembered for <see cref="TesseraSignalOptions.ReplayRetention"/>: a SET
/// delivered again is refused. A replay older than that would only re-apply a revocation, which changes nothing.
/// </summary>
internal sealed class SecurityEventReplayGuard(IOptions<TesseraValidationOptions> options, TimeProvider time)
{
    private readonly TimeSpan _retention = options.Value.Signals.ReplayRetention;
    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);
    private long _forgottenAt;

    /// <summary>Records <paramref name="jti"/>; false when it was seen within the retention.</summary>
    public bool TryRecord(string jti)
    {
        var now = time.GetUtcNow().UtcTicks;
        Forget(now);
        var forgetAt = now + _retention.Ticks;
        while (true)
        {
            if (_seen.TryAdd(jti, forgetAt))
            {
                return true;
            }

            if (_seen.TryGetValue(jti, out var existing))
            {
                if (existing > now)
                {
                    return false;
                }

                if (_seen.TryUpdate(jti, forgetAt, existing))
                {
                    return true;
                }
            }
        }
    }

    private void Forget(long now)
    {
        // At most once a minute, so a burst of SETs does not scan the set for every one.
        var last = Interlocked.Read(ref _forgottenAt);
        if (now - last < TimeSpan.TicksPerMinute || Interlocked.CompareExchange(ref _forgottenAt, now, last) != last)
        {
            return;
        }

        foreach (var (jti, forgetAt) in _seen)
        {
            if (forgetAt <= now)
            {
                _seen.TryRemove(KeyValuePair.Create(jti, forgetAt));
            }
        }
    }
}
