using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Tessera.Credentials.Status;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>
/// Whether a presented credential's status list entry says valid (draft-ietf-oauth-status-list §8). Tessera's own
/// credentials are looked up in its database, without HTTP. Another issuer's list is fetched through the SSRF-guarded
/// upstream client, verified with that issuer's keys, and kept for its <c>ttl</c> (at most until its <c>exp</c>, and
/// never longer than <see cref="MaxCache"/>); a list that cannot be fetched or verified is never taken as valid.
/// </summary>
public sealed partial class CredentialStatusCheck(IHttpClientFactory httpClients, TesseraIssuer tessera, StatusListTokens tokens, TimeProvider time, ILogger<CredentialStatusCheck> logger)
{
    public static readonly TimeSpan DefaultCache = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxCache = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, (StatusListToken List, DateTimeOffset Until)> _lists = new(StringComparer.Ordinal);

    /// <summary>Null when the entry says valid; else the reason it is refused.</summary>
    public async Task<(string Reason, string Description)?> CheckAsync(StatusReference reference, TrustedCredentialIssuer issuer, IReadOnlyList<Microsoft.IdentityModel.Tokens.SecurityKey> keys,
        TesseraDbContext db, CancellationToken cancellationToken)
    {
        if (issuer.IsTessera)
        {
            return await OwnAsync(reference, db, cancellationToken);
        }

        var now = time.GetUtcNow();
        if (!_lists.TryGetValue(reference.Uri, out var cached) || now >= cached.Until)
        {
            var fetched = await FetchAsync(reference.Uri, issuer, keys, cancellationToken);
            if (fetched is null)
            {
                return ("status_unavailable", "The credential's status list could not be fetched or did not verify.");
            }

            var keep = fetched.TimeToLive ?? DefaultCache;
            keep = keep > MaxCache ? MaxCache : keep;
            var until = now + keep;
            cached = (fetched, fetched.ExpiresAt is { } exp && exp < until ? exp : until);
            _lists[reference.Uri] = cached;
        }

        var status = cached.List.Lookup(reference);
        return status.Value is null ? ("status_unavailable", status.Failure!.Description)
            : status.Value.IsValid ? null
            : ("revoked", "The credential's status list says it is not valid.");
    }

    private async Task<(string, string)?> OwnAsync(StatusReference reference, TesseraDbContext db, CancellationToken cancellationToken)
    {
        var prefix = tessera.Url(CredentialEndpoints.StatusPath + "/");
        if (!reference.Uri.StartsWith(prefix, StringComparison.Ordinal)
            || !int.TryParse(reference.Uri[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var list) || reference.Index >= CredentialStatusLists.Capacity)
        {
            return ("status_unavailable", "The credential names a status list Tessera does not publish.");
        }

        var index = (int)reference.Index;
        var record = await db.IssuedCredentials.AsNoTracking().Where(c => c.StatusList == list && c.StatusIndex == index).Select(c => new { c.RevokedAt }).FirstOrDefaultAsync(cancellationToken);
        return record is null ? ("status_unavailable", "No credential Tessera issued holds this status entry.")
            : record.RevokedAt is not null ? ("revoked", "The credential's status list says it is not valid.")
            : null;
    }

    private async Task<StatusListToken?> FetchAsync(string uri, TrustedCredentialIssuer issuer, IReadOnlyList<Microsoft.IdentityModel.Tokens.SecurityKey> keys, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var address) || !(address.Scheme == Uri.UriSchemeHttps || address.Scheme == Uri.UriSchemeHttp && address.IsLoopback))
        {
            StatusFetchFailed(logger, issuer.Id, "the status list URI is not https");
            return null;
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, address);
            request.Headers.Accept.ParseAdd("application/" + StatusListToken.Type);
            using var response = await httpClients.CreateClient(OidcMetadataCache.HttpClientName).SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                StatusFetchFailed(logger, issuer.Id, $"HTTP {(int)response.StatusCode}");
                return null;
            }

            var verified = await tokens.VerifyAsync((await response.Content.ReadAsStringAsync(cancellationToken)).Trim(), keys, uri, issuer.Algorithms, issuer.ClockSkew);
            if (verified.Value is null)
            {
                StatusFetchFailed(logger, issuer.Id, verified.Failure!.Error.ToString());
            }

            return verified.Value;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            StatusFetchFailed(logger, issuer.Id, UpstreamAddressRefusedException.Caused(exception) ? UpstreamAddressRefusedException.Reason : exception.GetType().Name);
            return null;
        }
    }

    [LoggerMessage(EventId = 4801, Level = LogLevel.Warning, Message = "Fetching a status list of trusted credential issuer {IssuerId} failed: {Reason}")]
    private static partial void StatusFetchFailed(ILogger logger, string issuerId, string reason);
}
