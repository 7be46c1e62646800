using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Keys;

/// <summary>
/// Keeps this node's key ring current. A key another node (or the CLI) created is loaded within a second: at once on
/// a notification from PostgreSQL, otherwise by a look at the key table (every quarter second while no notification
/// can arrive, every second while they are heard). Once a minute
/// it also publishes a successor one pre-publication window before the current key retires (one node does, whichever
/// looks first; see <see cref="KeyRing"/>).
/// </summary>
public sealed partial class KeyRotationService(KeyRing keys, ChangeNotifications notifications, ILogger<KeyRotationService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly RepeatedFailures _failures = new(TimeSpan.FromMinutes(1));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Polling runs on the wall clock; the injected clock decides what is due.
        var dueCheckAt = DateTimeOffset.UtcNow + Interval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Also looked at while notifications are heard, only less often: a pooler in transaction mode
                // accepts LISTEN and then never delivers a notification.
                var announced = await notifications.WaitAsync(ChangeNotifications.KeysChannel,
                    notifications.Listening ? ConfigurationWatcher.PollInterval : ConfigurationWatcher.FallbackPollInterval, stoppingToken);
                if (DateTimeOffset.UtcNow >= dueCheckAt)
                {
                    dueCheckAt = DateTimeOffset.UtcNow + Interval;
                    await keys.LoadAsync(stoppingToken);
                }
                else if (announced || await keys.ChangedAsync(stoppingToken))
                {
                    await keys.ReloadAsync(stoppingToken);
                }

                if (_failures.Succeeded(DateTimeOffset.UtcNow) is { } failing)
                {
                    LogRecovered(failing.TotalSeconds);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                if (_failures.Failed(DateTimeOffset.UtcNow))
                {
                    LogRefreshFailed(exception);
                }
            }
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Refreshing the key ring failed; the loaded keys stay in use (logged once a minute while it keeps failing)")]
    private partial void LogRefreshFailed(Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Refreshing the key ring works again after {Seconds:F0} s of failures")]
    private partial void LogRecovered(double seconds);
}
