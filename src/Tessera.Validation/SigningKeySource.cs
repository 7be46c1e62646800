using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Tessera.Validation;

/// <summary>
/// Tessera's discovery document and signing keys, through the configuration manager (cached, refreshed on its
/// schedule). A token signed with a key id the cached set lacks asks for one refresh, at most once per
/// <see cref="TesseraValidationOptions.KeyRefreshInterval"/>; concurrent misses wait for that same fetch, so at any
/// rate of forged or rotated tokens Tessera sees at most one key-set request per interval.
/// </summary>
/// <remarks>
/// The refresh is awaited only when IdentityModel runs refreshes as blocking calls (the AppContext switch
/// <c>Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking</c>, which <c>AddTesseraValidation</c> turns on unless
/// the app set it). Otherwise the manager refreshes in the background: the token that caused it is refused, and
/// tokens after the background fetch are accepted.
/// </remarks>
internal sealed partial class SigningKeySource(TesseraBackchannel backchannel, IOptions<TesseraValidationOptions> options, TimeProvider time, TesseraValidationMetrics metrics, ILogger<SigningKeySource> logger)
{
    private readonly TesseraValidationOptions _options = options.Value;
    private readonly string[] _issuers = IssuerNames.Of(options.Value.Authority);
    private readonly Lock _gate = new();
    private DateTimeOffset _lastRefresh = DateTimeOffset.MinValue;
    private Task<OpenIdConnectConfiguration?>? _refresh;

    /// <summary>
    /// The current configuration; when <paramref name="kid"/> is not among its keys and a refresh is due, the
    /// refreshed one. Null when Tessera's metadata could never be fetched, or it names another issuer.
    /// </summary>
    public async ValueTask<OpenIdConnectConfiguration?> GetAsync(string? kid, CancellationToken cancellationToken)
    {
        var configuration = await CurrentAsync(cancellationToken);
        if (configuration is null || kid is null || HasKey(configuration, kid))
        {
            return configuration;
        }

        Task<OpenIdConnectConfiguration?> refresh;
        lock (_gate)
        {
            if (_refresh is { IsCompleted: false } inFlight)
            {
                refresh = inFlight;
            }
            else if (time.GetUtcNow() - _lastRefresh < _options.KeyRefreshInterval)
            {
                return configuration;
            }
            else
            {
                _lastRefresh = time.GetUtcNow();
                refresh = _refresh = RefreshAsync(configuration);
            }
        }

        return await refresh.WaitAsync(cancellationToken) ?? configuration;
    }

    /// <summary>The configuration as cached now (fetched the first time), without asking for a refresh.</summary>
    public async ValueTask<OpenIdConnectConfiguration?> CurrentAsync(CancellationToken cancellationToken)
    {
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await backchannel.Configuration.GetConfigurationAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidOperationException or HttpRequestException or IOException or ArgumentException)
        {
            MetadataUnavailable(logger, exception.GetType().Name);
            return null;
        }

        // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
        if (!IssuerNames.Matches(_issuers, configuration.Issuer))
        {
            IssuerMismatch(logger, configuration.Issuer ?? "(none)");
            return null;
        }

        return configuration;
    }

    private async Task<OpenIdConnectConfiguration?> RefreshAsync(OpenIdConnectConfiguration previous)
    {
        // Shared by every waiting request, so no single caller's cancellation may cancel it (the client has a timeout).
        await Task.Yield();
        backchannel.Configuration.RequestRefresh();
        var refreshed = await CurrentAsync(CancellationToken.None);
        metrics.KeysRefreshed();
        KeysRefreshed(logger, refreshed?.SigningKeys.Count ?? 0, !ReferenceEquals(refreshed, previous));
        return refreshed;
    }

    private static bool HasKey(OpenIdConnectConfiguration configuration, string kid)
    {
        foreach (var key in configuration.SigningKeys)
        {
            if (string.Equals(key.KeyId, kid, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Tessera's discovery document or key set could not be fetched ({Reason}); tokens cannot be verified until it can")]
    private static partial void MetadataUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Tessera's discovery document names the issuer '{Issuer}', not the configured Authority; no token is accepted")]
    private static partial void IssuerMismatch(ILogger logger, string issuer);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Key set refreshed for an unknown key id: {KeyCount} keys, new configuration {Changed}")]
    private static partial void KeysRefreshed(ILogger logger, int keyCount, bool changed);
}
