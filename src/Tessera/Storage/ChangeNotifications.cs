using Npgsql;
using Tessera.Hosting;

namespace Tessera.Storage;

/// <summary>
/// Tells this node at once when another node changed the managed configuration: on PostgreSQL a connection that
/// LISTENs on <see cref="ConfigurationChannel"/>, reopened with backoff when it drops. It only wakes the
/// <see cref="ConfigurationWatcher"/> early; the watcher also polls the revision, so a lost notification, a dropped
/// connection, a pooler that does not pass notifications, or SQLite all still converge within the poll interval.
/// </summary>
public sealed partial class ChangeNotifications(TesseraConfiguration configuration, ILogger<ChangeNotifications> logger) : BackgroundService
{
    public const string ConfigurationChannel = "tessera_configuration";

    /// <summary>The application name of the listening connection, so an operator (or a test) can find it in pg_stat_activity.</summary>
    public const string ApplicationName = "tessera-listen";

    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Whether a notification connection is open right now.</summary>
    public bool Listening { get; private set; }

    /// <summary>Completes when a notification arrives, or after <paramref name="timeout"/>.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, cancellationToken);

    /// <summary>Wakes the waiter (a change made on this node, or a notification).</summary>
    public void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
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
                connection.Notification += (_, _) => Wake();
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {ConfigurationChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                Listening = true;
                backoff = TimeSpan.FromSeconds(1);
                Wake(); // anything changed while no connection listened is picked up now
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
