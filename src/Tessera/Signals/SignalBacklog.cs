using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Tessera.Storage;

namespace Tessera.Signals;

/// <summary>
/// How many deliveries are still to be completed, per channel, for the <c>tessera.signals.backlog</c> gauge. A scrape
/// reads the last count and never waits on the database; the dispatcher counts again on its rounds, at most every
/// <see cref="CountEvery"/>, and only while someone has read the gauge recently, so an unobserved gauge costs nothing.
/// </summary>
public sealed class SignalBacklog(TimeProvider time)
{
    public static readonly TimeSpan CountEvery = TimeSpan.FromSeconds(5);

    /// <summary>After this long without a reader, counting stops until the next one.</summary>
    private static readonly TimeSpan Watched = TimeSpan.FromMinutes(5);

    private volatile IReadOnlyList<Measurement<long>> _counts = [];
    private long _lastObserved = long.MinValue;
    private long _lastCounted = long.MinValue;

    /// <summary>The gauge's callback: the last counts, and a note that someone is watching.</summary>
    public IEnumerable<Measurement<long>> Observe()
    {
        Interlocked.Exchange(ref _lastObserved, time.GetTimestamp());
        return _counts;
    }

    /// <summary>Counts again when the gauge is watched and the last count is older than <see cref="CountEvery"/>.</summary>
    public async Task RefreshAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        var observed = Interlocked.Read(ref _lastObserved);
        if (observed == long.MinValue || time.GetElapsedTime(observed, now) > Watched
            || (Interlocked.Read(ref _lastCounted) is var counted && counted != long.MinValue && time.GetElapsedTime(counted, now) < CountEvery))
        {
            return;
        }

        Interlocked.Exchange(ref _lastCounted, now);
        var counts = await db.SignalDeliveries.AsNoTracking()
            .Where(d => d.CompletedAt == null)
            .GroupBy(d => d.Channel)
            .Select(g => new { Channel = g.Key, Count = g.LongCount() })
            .ToListAsync(cancellationToken);

        // Every channel is reported, so a drained one reads 0 rather than disappearing.
        _counts = new[] { SignalChannels.BackchannelLogout, SignalChannels.Push, SignalChannels.Poll }
            .Select(channel => new Measurement<long>(counts.FirstOrDefault(c => c.Channel == channel)?.Count ?? 0,
                new KeyValuePair<string, object?>(Telemetry.TesseraTelemetry.Tags.Channel, channel)))
            .ToList();
    }
}
