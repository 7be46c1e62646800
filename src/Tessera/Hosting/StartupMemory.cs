using System.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tessera.Hosting;

/// <summary>
/// Gives back what start-up allocated and no longer needs (the configuration compiler's intermediate objects, EF Core's
/// model building, the migrations check, the key ring's reload) once a node serves: one aggressive collection shortly
/// after the host has started, which compacts the heap and returns the freed memory to the operating system. An idle
/// node keeps about 13 MB less resident (docs/performance.md, "Memory"); the collection pauses the node once, for about
/// 20 ms on a 2-core machine.
/// </summary>
public static partial class StartupMemory
{
    /// <summary>Long enough for the first requests (a balancer's readiness probe) to have touched what they keep.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    public static void CompactAfterStart(IHostApplicationLifetime lifetime, ILogger logger) =>
        lifetime.ApplicationStarted.Register(() => _ = CompactAsync(lifetime.ApplicationStopping, logger));

    private static async Task CompactAsync(CancellationToken stopping, ILogger logger)
    {
        try
        {
            await Task.Delay(Delay, stopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var before = GC.GetGCMemoryInfo().TotalCommittedBytes;
        var paused = GC.GetTotalPauseDuration();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Compacted(logger, before / 1024 / 1024, GC.GetGCMemoryInfo().TotalCommittedBytes / 1024 / 1024, (GC.GetTotalPauseDuration() - paused).TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up memory returned: GC heap committed {Before} MB -> {After} MB, paused {PauseMs:F1} ms")]
    private static partial void Compacted(ILogger logger, long before, long after, double pauseMs);
}
