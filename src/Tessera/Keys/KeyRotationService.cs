namespace Tessera.Keys;

/// <summary>
/// Re-reads the key ring periodically: picks up keys other nodes or the CLI created, and publishes a successor
/// one pre-publication window before the current key retires.
/// </summary>
public sealed partial class KeyRotationService(KeyRing keys, ILogger<KeyRotationService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Polling runs on the wall clock; the injected clock decides what is due.
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await keys.LoadAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogRefreshFailed(exception);
            }
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Refreshing the key ring failed; the loaded keys stay in use")]
    private partial void LogRefreshFailed(Exception exception);
}
