using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tessera.Hosting;
using Tessera.Saml;
using Tessera.Telemetry;

namespace Tessera.Federation;

/// <summary>
/// The IdP a <c>saml2</c> connection trusts, from inline metadata, explicit settings, or a metadata URL. Inline and
/// explicit settings are read once per configuration version. A metadata URL is fetched when first needed and again
/// every <see cref="ConnectionOptions.MetadataRefreshInterval"/>; when a refresh fails the last good metadata keeps
/// working (retried a minute later), so an IdP's metadata endpoint going down does not stop sign-in.
/// </summary>
public sealed partial class SamlIdentityProviders(IHttpClientFactory httpClients, TimeProvider time, TesseraTelemetry telemetry, ILogger<SamlIdentityProviders> logger)
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);

    private readonly ConditionalWeakTable<ConnectionOptions, Resolved> _configured = [];
    private readonly ConcurrentDictionary<string, Fetched> _fetched = new(StringComparer.Ordinal);

    public sealed record Resolved(SamlIdentityProvider? IdentityProvider, string? Error);

    public async Task<Resolved> GetAsync(ConnectionOptions connection, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(connection.MetadataUrl))
        {
            return _configured.GetValue(connection, Read);
        }

        var fetched = _fetched.GetOrAdd(connection.Id + "\n" + connection.MetadataUrl, _ => new Fetched());
        var now = time.GetUtcNow();
        if (fetched.Current is { } current && now < fetched.NextRefresh)
        {
            return current;
        }

        await fetched.Gate.WaitAsync(cancellationToken);
        try
        {
            if (fetched.Current is { } again && time.GetUtcNow() < fetched.NextRefresh)
            {
                return again;
            }

            var result = await FetchAsync(connection, cancellationToken);
            telemetry.MetadataFetch(TesseraTelemetry.FetchKinds.SamlMetadata, result.IdentityProvider is not null);
            if (result.IdentityProvider is not null || fetched.Current is null)
            {
                fetched.Current = result.IdentityProvider is null ? null : result;
                fetched.NextRefresh = time.GetUtcNow() + (result.IdentityProvider is null ? TimeSpan.Zero : connection.MetadataRefreshInterval);
                return result;
            }

            MetadataRefreshFailed(logger, connection.Id, result.Error ?? "");
            fetched.NextRefresh = time.GetUtcNow() + RetryAfterFailure;
            return fetched.Current;
        }
        finally
        {
            fetched.Gate.Release();
        }
    }

    private Resolved Read(ConnectionOptions connection) => string.IsNullOrEmpty(connection.MetadataXml)
        ? new Resolved(new SamlIdentityProvider(connection.EntityId!, new Uri(connection.SsoUrl!), SamlConnectionSettings.Certificates(connection.Certificates)), null)
        : Parse(connection, connection.MetadataXml);

    private Resolved Parse(ConnectionOptions connection, string xml)
    {
        var (idp, error) = SamlMetadata.ReadIdentityProvider(xml, SamlConnectionSettings.Certificates(connection.MetadataSigningCertificates), time.GetUtcNow());
        return new Resolved(idp, error);
    }

    private async Task<Resolved> FetchAsync(ConnectionOptions connection, CancellationToken cancellationToken)
    {
        string xml;
        try
        {
            using var response = await httpClients.CreateClient(OidcMetadataCache.HttpClientName).GetAsync(connection.MetadataUrl, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return new Resolved(null, $"The IdP metadata URL answered {(int)response.StatusCode}.");
            }

            xml = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            return new Resolved(null, UpstreamAddressRefusedException.Caused(exception)
                ? $"The IdP metadata URL could not be fetched: {UpstreamAddressRefusedException.Reason}."
                : "The IdP metadata URL could not be fetched.");
        }

        return Parse(connection, xml);
    }

    private sealed class Fetched
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public Resolved? Current { get; set; }
        public DateTimeOffset NextRefresh { get; set; }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "SAML metadata refresh for connection {ConnectionId} failed, keeping the last good metadata: {Reason}")]
    private static partial void MetadataRefreshFailed(ILogger logger, string connectionId, string reason);
}
