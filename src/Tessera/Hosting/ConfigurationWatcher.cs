using Tessera.Audit;
using Tessera.Protocol;

namespace Tessera.Hosting;

/// <summary>
/// Reloads the configuration file when it changes. The new file is validated whole; a refused file changes
/// nothing and is audited. Settings that need a restart (issuer, storage, key-encryption key) refuse the reload.
/// </summary>
public sealed partial class ConfigurationWatcher(
    TesseraConfiguration configuration,
    ClientSynchronizer clients,
    AuditLog audit,
    ILogger<ConfigurationWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    // Taken when the host is composed, right after the file was loaded, so a change made while the server starts
    // is not missed. Content, not timestamps: network and container file systems report times unreliably.
    private string? _fingerprint = Fingerprint(configuration.File);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (configuration.File is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(PollInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var current = Fingerprint(configuration.File);
            if (current is null || current == _fingerprint)
            {
                continue;
            }

            try
            {
                await ReloadAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogReloadFailed(exception);
            }
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

    public async Task<CompiledConfiguration> ReloadAsync(CancellationToken cancellationToken)
    {
        _fingerprint = Fingerprint(configuration.File) ?? _fingerprint; // this content is now handled, whoever asked
        var loaded = ConfigurationLoader.LoadFile(configuration.File!);
        var result = loaded.Succeeded
            ? ConfigurationCompiler.Compile(loaded.Options!, forServe: !configuration.Current.Development.Demo, configuration.File)
            : new CompiledConfiguration(null, loaded.Errors, configuration.File);
        var errors = result.Errors.ToList();
        if (loaded.Succeeded)
        {
            errors.AddRange(RestartOnlyChanges(configuration.Current.Declared, loaded.Options!));
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

        configuration.Replace(result.Model!);
        await clients.SynchronizeAsync(result.Model!, cancellationToken);
        LogApplied(configuration.File!);
        audit.Record(new AuditEvent(AuditEvents.ConfigurationApplied, AuditEvent.Success) { Detail = new Dictionary<string, string?> { ["file"] = configuration.File } });
        return result;
    }

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

        if (running.Storage.ApplyMigrations != next.Storage.ApplyMigrations)
        {
            yield return new ConfigurationError("$.Tessera.Storage.ApplyMigrations", "changing this needs a restart");
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Configuration reload refused: {Error}")]
    private partial void LogRefused(string error);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Configuration reloaded from {File}")]
    private partial void LogApplied(string file);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Configuration reload failed; the running configuration was kept")]
    private partial void LogReloadFailed(Exception exception);
}
