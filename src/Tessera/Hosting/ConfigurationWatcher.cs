using Tessera.Audit;
using Tessera.Protocol;
using Tessera.Storage;

namespace Tessera.Hosting;

/// <summary>
/// Keeps the model in force current with both of its sources: the configuration file (reloaded when its content
/// changes; a refused file changes nothing and is audited; settings that need a restart refuse the reload) and the
/// managed configuration in the database (recompiled when its revision moves: at once on the node that made the
/// change, on a notification from PostgreSQL, and otherwise within one poll interval: a second while notifications are
/// heard, a quarter of one while they are not, so a change is in force on every node within a second either way).
/// </summary>
public sealed partial class ConfigurationWatcher(
    TesseraConfiguration configuration,
    ManagedConfigurationStore managedStore,
    ChangeNotifications notifications,
    ClientSynchronizer clients,
    AuditLog audit,
    ILogger<ConfigurationWatcher> logger) : BackgroundService
{
    /// <summary>How often the file and the database revision are looked at while notifications are heard.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often the database revision is looked at while no notification can arrive (SQLite, or the connection is lost).</summary>
    public static readonly TimeSpan FallbackPollInterval = TimeSpan.FromMilliseconds(250);

    private readonly RepeatedFailures _failures = new(TimeSpan.FromMinutes(1));

    private DateTimeOffset _fileCheckedAt = DateTimeOffset.MinValue;

    private readonly SemaphoreSlim _gate = new(1, 1);

    // Taken when the host is composed, right after the file was loaded, so a change made while the server starts
    // is not missed. Content, not timestamps: network and container file systems report times unreliably.
    private string? _fingerprint = Fingerprint(configuration.File);

    private string? _settling;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await notifications.WaitAsync(notifications.Listening ? PollInterval : FallbackPollInterval, stoppingToken);
                var now = DateTimeOffset.UtcNow;
                if (now - _fileCheckedAt >= PollInterval)
                {
                    _fileCheckedAt = now;
                    await CheckFileAsync(stoppingToken);
                }

                await RefreshManagedAsync(stoppingToken);
                await RetrySynchronizationAsync(stoppingToken);
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
                // The database is away, or a reload failed: the running model stays, and the next tick tries again.
                if (_failures.Failed(DateTimeOffset.UtcNow))
                {
                    LogReloadFailed(exception);
                }
            }
        }
    }

    private async Task CheckFileAsync(CancellationToken cancellationToken)
    {
        if (configuration.File is not null && Fingerprint(configuration.File) is { } current && current != _fingerprint)
        {
            // Reloaded once the content has stayed the same for a second: an editor or a deployment that writes
            // the file in several steps is not caught half way (and refused, and audited, for nothing).
            if (current == _settling)
            {
                await ReloadAsync(cancellationToken);
            }

            _settling = current;
        }
    }

    private static string? Fingerprint(string? file)
    {
        try
        {
            return file is null ? null : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
        }
        catch (IOException)
        {
            return null; // being written: look again at the next tick
        }
    }

    /// <summary>Reloads the configuration file and compiles it with the managed configuration in force.</summary>
    public async Task<CompiledConfiguration> ReloadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _fingerprint = Fingerprint(configuration.File) ?? _fingerprint; // this content is now handled, whoever asked
            var loaded = ConfigurationLoader.LoadFile(configuration.File!);
            var result = loaded.Succeeded
                ? ConfigurationCompiler.Compile(loaded.Options!, configuration.Current.Managed, forServe: !configuration.Current.Development.Demo, configuration.File)
                : new CompiledConfiguration(null, loaded.Errors, configuration.File);
            var errors = result.Errors.ToList();
            if (loaded.Succeeded)
            {
                errors.AddRange(RestartOnlyChanges(configuration.Current.File, loaded.Options!));
            }

            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    LogRefused(error.Format(configuration.File));
                }

                audit.Record(new AuditEvent(AuditEvents.ConfigurationRefused, AuditEvent.Failure)
                {
                    Reason = $"{errors.Count} error(s); the running configuration was kept",
                    Detail = errors.Take(20).Select((e, i) => (e, i)).ToDictionary(x => $"error_{x.i + 1}", x => (string?)$"{x.e.Path}: {x.e.Reason}"),
                });
                return new CompiledConfiguration(null, errors, configuration.File);
            }

            await ApplyAsync(result.Model!, cancellationToken);
            LogApplied(configuration.File!);
            audit.Record(new AuditEvent(AuditEvents.ConfigurationApplied, AuditEvent.Success) { Detail = new Dictionary<string, string?> { ["file"] = configuration.File } });
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Recompiles with the managed configuration in the database when its revision differs from the model's.</summary>
    public async Task RefreshManagedAsync(CancellationToken cancellationToken, bool force = false)
    {
        if (!force && await managedStore.RevisionAsync(cancellationToken) == configuration.Current.Managed.Revision)
        {
            return;
        }

        await ApplyManagedAsync(await managedStore.LoadAsync(cancellationToken), cancellationToken);
    }

    /// <summary>Puts a managed configuration read from the database in force, unless the model already has a newer one.</summary>
    public async Task ApplyManagedAsync(ManagedConfiguration managed, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var running = configuration.Current;
            if (managed.Revision < running.Managed.Revision)
            {
                return; // a newer one is already in force (another refresh overtook this one)
            }

            var result = ConfigurationCompiler.Compile(running.File, managed, forServe: !running.Development.Demo, configuration.File);
            if (!result.Succeeded)
            {
                // Only the file's own errors refuse a compilation, and the file in force compiled before.
                foreach (var error in result.Errors)
                {
                    LogRefused(error.Format(configuration.File));
                }

                return;
            }

            foreach (var problem in result.Model!.Problems)
            {
                LogManagedProblem(problem.Kind, problem.Id, string.Join("; ", problem.Errors.Select(e => $"{e.Path}: {e.Reason}")));
            }

            await ApplyAsync(result.Model, cancellationToken);
            LogManagedApplied(managed.Revision);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ApplyAsync(TesseraModel model, CancellationToken cancellationToken)
    {
        configuration.Replace(model);
        await SynchronizeClientsAsync(cancellationToken);
    }

    /// <summary>
    /// Writes the client registrations when the clients in force differ from those last written: most managed changes
    /// (a connection, a domain) leave them alone. A write that failed (another node writing at the same moment) is
    /// tried again at the next tick.
    /// </summary>
    private async Task SynchronizeClientsAsync(CancellationToken cancellationToken)
    {
        var model = configuration.Current;
        if (ReferenceEquals(model, _synchronizedModel))
        {
            return;
        }

        var fingerprint = ClientsFingerprint(model);
        if (fingerprint == _synchronized)
        {
            return;
        }

        await clients.SynchronizeAsync(model, cancellationToken);
        _synchronized = fingerprint;
        _synchronizedModel = model;
    }

    private async Task RetrySynchronizationAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await SynchronizeClientsAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private string? _synchronized;

    private TesseraModel? _synchronizedModel;

    private static string ClientsFingerprint(TesseraModel model) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(model.Clients)));

    private static IEnumerable<ConfigurationError> RestartOnlyChanges(TesseraOptions running, TesseraOptions next)
    {
        if (!TesseraIssuer.Same(running.Issuer, next.Issuer))
        {
            yield return new ConfigurationError("$.Tessera.Issuer", "changing the issuer needs a restart");
        }

        if (running.Storage.Provider != next.Storage.Provider || running.Storage.ConnectionString != next.Storage.ConnectionString)
        {
            yield return new ConfigurationError("$.Tessera.Storage", "changing storage needs a restart");
        }

        if (running.Keys.EncryptionKey != next.Keys.EncryptionKey)
        {
            yield return new ConfigurationError("$.Tessera.Keys.EncryptionKey", "changing the key-encryption key needs a restart");
        }

        if (running.Tokens.AccessToken != next.Tokens.AccessToken || running.Tokens.IdentityToken != next.Tokens.IdentityToken
            || running.Tokens.AuthorizationCode != next.Tokens.AuthorizationCode || running.Tokens.RefreshToken != next.Tokens.RefreshToken)
        {
            yield return new ConfigurationError("$.Tessera.Tokens", "changing token lifetimes needs a restart");
        }

        if (System.Text.Json.JsonSerializer.Serialize(running.RequestLimits) != System.Text.Json.JsonSerializer.Serialize(next.RequestLimits))
        {
            yield return new ConfigurationError("$.Tessera.RequestLimits", "changing request limits needs a restart");
        }

        if (!running.Network.TrustedProxies.SequenceEqual(next.Network.TrustedProxies))
        {
            yield return new ConfigurationError("$.Tessera.Network.TrustedProxies", "changing the trusted proxies needs a restart");
        }

        if (running.Network.ForwardedHeader != next.Network.ForwardedHeader)
        {
            yield return new ConfigurationError("$.Tessera.Network.ForwardedHeader", "changing the forwarding header needs a restart");
        }

        if (running.Storage.ApplyMigrations != next.Storage.ApplyMigrations)
        {
            yield return new ConfigurationError("$.Tessera.Storage.ApplyMigrations", "changing this needs a restart");
        }

        if (!running.Telemetry.PrometheusUrls.SequenceEqual(next.Telemetry.PrometheusUrls, StringComparer.Ordinal))
        {
            yield return new ConfigurationError("$.Tessera.Telemetry", "changing telemetry needs a restart");
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Configuration reload refused: {Error}")]
    private partial void LogRefused(string error);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Configuration reloaded from {File}")]
    private partial void LogApplied(string file);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Configuration reload failed; the running configuration was kept (logged once a minute while it keeps failing)")]
    private partial void LogReloadFailed(Exception exception);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Information, Message = "Configuration refresh works again after {Seconds:F0} s of failures")]
    private partial void LogRecovered(double seconds);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Managed configuration revision {Revision} is in force")]
    private partial void LogManagedApplied(long revision);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Error, Message = "Managed {Kind} '{Id}' is left out of the configuration: {Errors}")]
    private partial void LogManagedProblem(string kind, string id, string errors);
}
