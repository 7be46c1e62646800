using Npgsql;
using Tessera.Hosting;

namespace Tessera.Storage;

/// <summary>
/// Tells this node at once when another node changed something every node holds: on PostgreSQL a connection that
/// LISTENs on <see cref="ConfigurationChannel"/> (the managed configuration) and <see cref="KeysChannel"/> (the key
/// ring), reopened with backoff when it drops. It only wakes the <see cref="ConfigurationWatcher"/> and the
/// <see cref="Keys.KeyRotationService"/> early; both also poll, fast while nothing listens, so a lost notification, a
/// dropped connection, a pooler that does not pass notifications, or SQLite all still converge within a second.
/// </summary>
public sealed partial class ChangeNotifications(TesseraConfiguration configuration, ILogger<ChangeNotifications> logger) : BackgroundService
{
    public const string ConfigurationChannel = "tessera_configuration";

    public const string KeysChannel = "tessera_keys";

    /// <summary>The application name of the listening connection, so an operator (or a test) can find it in pg_stat_activity.</summary>
    public const string ApplicationName = "tessera-listen";

    private readonly Dictionary<string, SemaphoreSlim> _wake = new(StringComparer.Ordinal)
    {
        [ConfigurationChannel] = new(0, 1),
        [KeysChannel] = new(0, 1),
    };

    /// <summary>Whether a notification connection is open right now.</summary>
    public bool Listening { get; private set; }

    /// <summary>Completes when a change of the configuration is announced, or after <paramref name="timeout"/>.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => WaitAsync(ConfigurationChannel, timeout, cancellationToken);

    /// <summary>Completes when a change on <paramref name="channel"/> is announced, or after <paramref name="timeout"/>.</summary>
    public Task<bool> WaitAsync(string channel, TimeSpan timeout, CancellationToken cancellationToken) => _wake[channel].WaitAsync(timeout, cancellationToken);

    /// <summary>Wakes the configuration's waiter (a change made on this node, or a notification).</summary>
    public void Wake() => Wake(ConfigurationChannel);

    /// <summary>Wakes the waiter of <paramref name="channel"/>.</summary>
    public void Wake(string channel)
    {
        var wake = _wake[channel];
        try
        {
            if (wake.CurrentCount == 0)
            {
                wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var storage = configuration.Current.Storage;
        if (storage.Provider != StorageProvider.Postgres)
        {
            return;
        }

        var connectionString = new NpgsqlConnectionStringBuilder(storage.ConnectionString)
        {
            ApplicationName = ApplicationName,
            Pooling = false,
            KeepAlive = 15,
        }.ConnectionString;
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, notification) =>
                {
                    if (_wake.ContainsKey(notification.Channel))
                    {
                        Wake(notification.Channel);
                    }
                };
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {ConfigurationChannel}; LISTEN {KeysChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                Listening = true;
                backoff = TimeSpan.FromSeconds(1);
                foreach (var channel in _wake.Keys)
                {
                    Wake(channel); // anything changed while no connection listened is picked up now
                }
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException or IOException)
            {
                Listening = false;
                LogListenLost(exception, backoff.TotalSeconds);
            }

            await Task.Delay(backoff, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, 30));
        }
    }

    [LoggerMessage(EventId = 1121, Level = LogLevel.Warning, Message = "Change notifications lost; polling until they are back (next try in {Seconds} s)")]
    private partial void LogListenLost(Exception exception, double seconds);
}
