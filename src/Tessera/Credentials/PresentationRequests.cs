using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Credentials.SdJwt;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>A request an app created: its id, the link for the wallet, and when it expires.</summary>
public sealed record CreatedPresentationRequest(string Id, string RequestUri, string WalletLink, DateTimeOffset ExpiresAt);

/// <summary>What the app receives once: the signed result token and the same claims as JSON.</summary>
public sealed record PresentationResult(string Token, JsonObject Claims, string Subject, DateTimeOffset ExpiresAt);

/// <summary>An OAuth-shaped refusal: the error code, a description, the audited reason, and the HTTP status.</summary>
public sealed record VerifierError(int Status, string Error, string Description, string Reason);

/// <summary>
/// The life of an OpenID4VP 1.0 request (response mode <c>direct_post</c>): an app creates it for a configured
/// presentation; the wallet fetches the request object by reference and posts its <c>vp_token</c> to the response URI;
/// the app redeems the verified result once. Everything is stored in the database, so any node can serve any step,
/// and each step is single use: one answer per request, one redemption per answer.
/// </summary>
public sealed class PresentationRequests(TesseraDbContext db, TesseraConfiguration configuration, TesseraIssuer issuer, PresentationVerifier verifier,
    PresentationResultToken results, AuditLog audit, TimeProvider time)
{
    /// <summary>The client identifier prefix Tessera uses (OpenID4VP 1.0 §5.9.3): the request object is unsigned, and the identifier is the response URI.</summary>
    public const string ClientIdPrefix = "redirect_uri:";

    /// <summary>How long the app has to redeem an answered request.</summary>
    public static readonly TimeSpan RedeemWindow = TimeSpan.FromMinutes(2);

    public string ResponseUri => issuer.Url(PresentationEndpoints.ResponsePath);

    /// <summary>The <c>client_id</c> Tessera sends to wallets, and so the <c>aud</c> each key-binding JWT must carry.</summary>
    public string VerifierClientId => ClientIdPrefix + ResponseUri;

    public async Task<(CreatedPresentationRequest? Request, VerifierError? Error)> CreateAsync(ClientOptions client, string? presentationId, string? redirectUri, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(presentationId) || !configuration.Current.Verifier.Presentations.TryGetValue(presentationId, out var definition))
        {
            return Fail(400, "invalid_request", "presentation names no configured presentation", "unknown_presentation", client.ClientId);
        }

        if (!definition.Clients.Contains(client.ClientId))
        {
            return Fail(403, "unauthorized_client", "this client may not ask for this presentation", "client_not_allowed", client.ClientId);
        }

        // Same-device: the wallet sends the user back to a URI the app registered, matched exactly.
        if (redirectUri is not null && !client.RedirectUris.Contains(redirectUri, StringComparer.Ordinal))
        {
            return Fail(400, "invalid_request", "redirect_uri is not one this client registered", "redirect_uri_not_registered", client.ClientId);
        }

        var now = time.GetUtcNow();
        var record = new PresentationRequestRecord
        {
            Id = Random(),
            ClientId = client.ClientId,
            PresentationId = definition.Id,
            RedirectUri = redirectUri,
            Nonce = Random(),
            StateHash = "",
            CreatedAt = now.UtcDateTime,
            ExpiresAt = (now + definition.Lifetime).UtcDateTime,
        };

        // The state is derived from the id with a hash so that the wallet's answer finds the request, and the stored
        // value alone does not reveal the request id.
        record.StateHash = CredentialNonces.Hash(State(record.Id));
        db.PresentationRequests.Add(record);
        await db.SaveChangesAsync(cancellationToken);

        audit.Record(new AuditEvent(AuditEvents.PresentationRequested, AuditEvent.Success)
        {
            ClientId = client.ClientId,
            Detail = new Dictionary<string, string?> { ["request"] = record.Id, ["presentation"] = definition.Id, ["flow"] = redirectUri is null ? "cross_device" : "same_device" },
        });

        var requestUri = issuer.Url($"{PresentationEndpoints.RequestsPath}/{record.Id}");
        var link = $"openid4vp://?client_id={Uri.EscapeDataString(VerifierClientId)}&request_uri={Uri.EscapeDataString(requestUri)}";
        return (new CreatedPresentationRequest(record.Id, requestUri, link, now + definition.Lifetime), null);
    }

    /// <summary>The request object (OpenID4VP 1.0 §5, §5.9.3): an unsigned JWT, <c>typ: oauth-authz-req+jwt</c>, while the request awaits its answer.</summary>
    public async Task<string?> RequestObjectAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (id.Length > 64 || await db.PresentationRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && r.Purpose == PresentationRequestRecord.OpenId4Vp, cancellationToken) is not { } record
            || record.Status != PresentationRequestRecord.Pending || record.ExpiresAt <= now.UtcDateTime
            || !configuration.Current.Verifier.Presentations.TryGetValue(record.PresentationId, out var definition))
        {
            return null;
        }

        var algorithms = new JsonArray([.. SdJwtVerificationPolicy.DefaultAlgorithms.Select(a => JsonValue.Create(a))]);
        var payload = new JsonObject
        {
            ["client_id"] = VerifierClientId,
            ["response_type"] = "vp_token",
            ["response_mode"] = "direct_post",
            ["response_uri"] = ResponseUri,
            ["nonce"] = record.Nonce,
            ["state"] = State(record.Id),
            ["dcql_query"] = definition.QueryJson.DeepClone(),
            ["client_metadata"] = new JsonObject
            {
                ["vp_formats_supported"] = new JsonObject
                {
                    [Dcql.DcqlQuery.SdJwtVcFormat] = new JsonObject { ["sd-jwt_alg_values"] = algorithms.DeepClone(), ["kb-jwt_alg_values"] = algorithms },
                },
            },
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = new DateTimeOffset(record.ExpiresAt, TimeSpan.Zero).ToUnixTimeSeconds(),
        };
        var header = new JsonObject { ["alg"] = "none", ["typ"] = "oauth-authz-req+jwt" };
        return Base64UrlEncoder.Encode(header.ToJsonString()) + "." + Base64UrlEncoder.Encode(payload.ToJsonString()) + ".";
    }

    /// <summary>
    /// The wallet's answer (OpenID4VP 1.0 §8.2): verified in full, then recorded once. Same-device answers carry the
    /// app's redirect URI with a fresh response code; a refusal is recorded so that the app learns the reason.
    /// </summary>
    public async Task<(string? RedirectUri, VerifierError? Error)> RespondAsync(string? state, string? vpToken, string? walletError, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stateHash = string.IsNullOrEmpty(state) || state.Length > 100 ? null : CredentialNonces.Hash(state);
        var record = stateHash is null ? null : await db.PresentationRequests.AsNoTracking()
            .FirstOrDefaultAsync(r => r.StateHash == stateHash && r.Purpose == PresentationRequestRecord.OpenId4Vp, cancellationToken);
        if (record is null || record.ExpiresAt <= now.UtcDateTime)
        {
            return (null, Refused(null, 400, "invalid_request", "state names no open presentation request", record is null ? "unknown_request" : "expired_request").Error);
        }

        if (record.Status != PresentationRequestRecord.Pending)
        {
            return (null, Refused(record, 400, "invalid_request", "this presentation request was already answered", "request_already_answered").Error);
        }

        if (!configuration.Current.Verifier.Presentations.TryGetValue(record.PresentationId, out var definition))
        {
            return await RecordRefusalAsync(record, "presentation_removed", "the presentation is no longer configured", now, cancellationToken);
        }

        if (walletError is not null)
        {
            // §8.5: the wallet declined or failed; the app learns that it did, not why in the wallet's words.
            return await RecordRefusalAsync(record, "wallet_error", "the wallet answered with an error", now, cancellationToken);
        }

        var (presentation, refusal) = await verifier.VerifyAsync(vpToken, definition, new KeyBindingExpectation(VerifierClientId, record.Nonce), cancellationToken);
        if (presentation is null)
        {
            return await RecordRefusalAsync(record, refusal!.Reason, refusal.Description, now, cancellationToken);
        }

        var code = record.RedirectUri is null ? null : Random();
        var subject = PairwiseSubject(issuer, record.ClientId, presentation.HolderKeyThumbprint);
        var answered = await db.PresentationRequests.Where(r => r.Id == record.Id && r.Status == PresentationRequestRecord.Pending)
            .ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Status, PresentationRequestRecord.Verified)
                .SetProperty(r => r.Claims, presentation.Claims.ToJsonString())
                .SetProperty(r => r.Subject, subject)
                .SetProperty(r => r.ResponseCodeHash, code == null ? null : CredentialNonces.Hash(code))
                .SetProperty(r => r.AnsweredAt, now.UtcDateTime)
                .SetProperty(r => r.ExpiresAt, (now + RedeemWindow).UtcDateTime), cancellationToken);
        if (answered != 1)
        {
            return (null, Refused(record, 400, "invalid_request", "this presentation request was already answered", "request_already_answered").Error);
        }

        audit.Record(new AuditEvent(AuditEvents.PresentationVerified, AuditEvent.Success)
        {
            ClientId = record.ClientId,
            Detail = new Dictionary<string, string?>
            {
                ["request"] = record.Id,
                ["presentation"] = record.PresentationId,
                ["issuers"] = string.Join(' ', presentation.Issuers.Distinct()),
                ["claims"] = string.Join(' ', presentation.Claims.Select(c => c.Key)), // names only, never values
            },
        });
        return (code is null ? null : Append(record.RedirectUri!, "response_code", code), null);
    }

    /// <summary>The app takes the verified result, once, with its response code when the flow was same-device.</summary>
    public async Task<(PresentationResult? Result, VerifierError? Error)> RedeemAsync(ClientOptions client, string? id, string? responseCode, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var record = string.IsNullOrEmpty(id) || id.Length > 64 ? null : await db.PresentationRequests.AsNoTracking()
            .FirstOrDefaultAsync(r => r.Id == id && r.Purpose == PresentationRequestRecord.OpenId4Vp, cancellationToken);
        if (record is null)
        {
            return Refused(null, 400, "invalid_grant", "request_id names no presentation request", "unknown_request", client.ClientId);
        }

        if (record.ClientId != client.ClientId)
        {
            return Refused(record, 400, "invalid_grant", "request_id names no presentation request", "wrong_client", client.ClientId);
        }

        if (record.ExpiresAt <= now.UtcDateTime)
        {
            return Refused(record, 400, "invalid_grant", "the presentation request has expired", "expired_request");
        }

        switch (record.Status)
        {
            case PresentationRequestRecord.Pending:
                return (null, new VerifierError(400, "authorization_pending", "the wallet has not answered yet", "pending"));
            case PresentationRequestRecord.Refused:
                return (null, new VerifierError(400, "access_denied", $"the presentation was refused ({record.Failure})", record.Failure ?? "refused"));
            case PresentationRequestRecord.Redeemed:
                return Refused(record, 400, "invalid_grant", "this result was already redeemed", "result_reused");
        }

        if (record.ResponseCodeHash is not null && (string.IsNullOrEmpty(responseCode) || responseCode.Length > 100
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(CredentialNonces.Hash(responseCode)), Encoding.ASCII.GetBytes(record.ResponseCodeHash))))
        {
            return Refused(record, 400, "invalid_grant", "response_code does not match the wallet's answer", "wrong_response_code");
        }

        var taken = await db.PresentationRequests.Where(r => r.Id == record.Id && r.Status == PresentationRequestRecord.Verified)
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.Status, PresentationRequestRecord.Redeemed).SetProperty(r => r.Claims, (string?)null), cancellationToken);
        if (taken != 1)
        {
            return Refused(record, 400, "invalid_grant", "this result was already redeemed", "result_reused");
        }

        var claims = JsonNode.Parse(record.Claims!)!.AsObject();
        var (token, expires) = results.Create(client, record.Subject!, claims);
        return (new PresentationResult(token, claims, record.Subject!, expires), null);
    }

    /// <summary>A pairwise subject: the same holder key gives each app a different, stable identifier.</summary>
    public static string PairwiseSubject(TesseraIssuer issuer, string clientId, string holderKeyThumbprint) =>
        Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes($"{issuer.Name}\n{clientId}\n{holderKeyThumbprint}")));

    private static string State(string id) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes("state\n" + id)));

    internal static string Random() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private static string Append(string uri, string name, string value) =>
        uri + (uri.Contains('?', StringComparison.Ordinal) ? "&" : "?") + name + "=" + Uri.EscapeDataString(value);

    private async Task<(string?, VerifierError?)> RecordRefusalAsync(PresentationRequestRecord record, string reason, string description, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var refused = await db.PresentationRequests.Where(r => r.Id == record.Id && r.Status == PresentationRequestRecord.Pending)
            .ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Status, PresentationRequestRecord.Refused)
                .SetProperty(r => r.Failure, reason)
                .SetProperty(r => r.AnsweredAt, now.UtcDateTime)
                .SetProperty(r => r.ExpiresAt, (now + RedeemWindow).UtcDateTime), cancellationToken);
        return refused == 1
            ? (null, Refused(record, 400, "invalid_request", $"{reason}: {description}", reason).Error)
            : (null, Refused(record, 400, "invalid_request", "this presentation request was already answered", "request_already_answered").Error);
    }

    private (PresentationResult? Result, VerifierError? Error) Refused(PresentationRequestRecord? record, int status, string error, string description, string reason, string? clientId = null)
    {
        audit.Record(new AuditEvent(AuditEvents.PresentationRefused, AuditEvent.Failure)
        {
            ClientId = clientId ?? record?.ClientId,
            Reason = reason,
            Detail = record is null ? null : new Dictionary<string, string?> { ["request"] = record.Id, ["presentation"] = record.PresentationId },
        });
        return (null, new VerifierError(status, error, description, reason));
    }

    private (CreatedPresentationRequest?, VerifierError?) Fail(int status, string error, string description, string reason, string clientId) =>
        (null, Refused(null, status, error, description, reason, clientId).Error);
}
