using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Tessera.Audit;
using Tessera.Credentials.SdJwt;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>A nonce for one presentation: what the wallet binds its key-binding JWT to.</summary>
public sealed record ExchangeNonce(string Nonce, string Audience, DateTimeOffset ExpiresAt, PresentationDefinition Presentation);

/// <summary>A presentation verified for a token exchange: the pairwise subject, the disclosed result claims, the issuer, and the credentials' first expiry.</summary>
public sealed record ExchangedPresentation(string PresentationId, string Subject, string Issuer, JsonObject Claims, DateTimeOffset? ExpiresAt);

/// <summary>
/// A presentation as the subject token of a token exchange (RFC 8693): an app holds an SD-JWT VC presentation a
/// wallet gave it, and exchanges it for a Tessera token carrying only the disclosed claims. The app first takes a
/// nonce for the presentation it will ask for; the wallet binds its key-binding JWT to that nonce with the app's
/// client_id as <c>aud</c> (a pre-registered verifier, OpenID4VP 1.0 §5.9.1). Each nonce is stored by hash, belongs to
/// one client and one presentation, and is spent by the first exchange that names it, whatever the outcome, so a
/// presentation can be exchanged at most once.
/// </summary>
public sealed class PresentationExchange(TesseraDbContext db, TesseraConfiguration configuration, TesseraIssuer issuer, PresentationVerifier verifier,
    AuditLog audit, TimeProvider time)
{
    /// <summary>
    /// RFC 8693 §3 leaves token types open to any URI; none is registered for a key-bound SD-JWT VC presentation,
    /// so Tessera names its own.
    /// </summary>
    public const string TokenType = "urn:tessera:token-type:dc+sd-jwt";

    /// <summary>A nonce for <paramref name="presentationId"/>, when <paramref name="client"/> may ask for it and may exchange it.</summary>
    public async Task<(ExchangeNonce? Nonce, VerifierError? Error)> NonceAsync(ClientOptions client, string? presentationId, IReadOnlyCollection<string> exchangeable,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(presentationId) || !configuration.Current.Verifier.Presentations.TryGetValue(presentationId, out var definition))
        {
            return Fail(400, "invalid_request", "presentation names no configured presentation", "unknown_presentation", client.ClientId);
        }

        if (!definition.Clients.Contains(client.ClientId) || !exchangeable.Contains(definition.Id))
        {
            return Fail(403, "unauthorized_client", "no exchange policy lets this client exchange this presentation", "client_not_allowed", client.ClientId);
        }

        var nonce = PresentationRequests.Random();
        var now = time.GetUtcNow();
        db.PresentationRequests.Add(new PresentationRequestRecord
        {
            Id = CredentialNonces.Hash(nonce),
            Purpose = PresentationRequestRecord.Exchange,
            ClientId = client.ClientId,
            PresentationId = definition.Id,
            StateHash = CredentialNonces.Hash("exchange\n" + nonce),
            CreatedAt = now.UtcDateTime,
            ExpiresAt = (now + definition.Lifetime).UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
        audit.Record(new AuditEvent(AuditEvents.PresentationRequested, AuditEvent.Success)
        {
            ClientId = client.ClientId,
            Detail = new Dictionary<string, string?> { ["presentation"] = definition.Id, ["flow"] = "exchange" },
        });
        return (new ExchangeNonce(nonce, client.ClientId, now + definition.Lifetime, definition), null);
    }

    /// <summary>
    /// Verifies <paramref name="presentation"/> (an SD-JWT VC with its key-binding JWT) for <paramref name="clientId"/>:
    /// the nonce it is bound to must be one this client took for a presentation in <paramref name="exchangeable"/>, unspent
    /// and unexpired; then everything the verifier checks for a wallet's answer, with the client_id as audience.
    /// </summary>
    public async Task<(ExchangedPresentation? Presentation, PresentationRefusal? Refusal)> VerifyAsync(string presentation, string clientId,
        IReadOnlyCollection<string> exchangeable, CancellationToken cancellationToken)
    {
        if (presentation.Length > PresentationEndpoints.MaxResponseBytes)
        {
            return Refuse("oversized", "The presentation is larger than allowed.");
        }

        var keyBinding = presentation[(presentation.LastIndexOf('~') + 1)..];
        if (keyBinding.Length == 0 || !presentation.Contains('~', StringComparison.Ordinal))
        {
            return Refuse("key_binding_missing", "The presentation carries no key-binding JWT; exchange requires one, bound to a nonce from /presentations/nonce.");
        }

        string? nonce;
        try
        {
            nonce = new JsonWebToken(keyBinding).TryGetPayloadValue<string>("nonce", out var named) ? named : null;
        }
        catch (Exception exception) when (exception is ArgumentException or System.Text.Json.JsonException or FormatException)
        {
            return Refuse("malformed", "The presentation's key-binding JWT is not a JWT.");
        }

        var now = time.GetUtcNow();
        var id = string.IsNullOrEmpty(nonce) || nonce.Length > 100 ? null : CredentialNonces.Hash(nonce);
        var record = id is null ? null : await db.PresentationRequests.AsNoTracking()
            .FirstOrDefaultAsync(r => r.Id == id && r.Purpose == PresentationRequestRecord.Exchange, cancellationToken);
        if (record is null || record.ClientId != clientId)
        {
            return Refuse("nonce_unknown", "The key-binding JWT's nonce is not one this client took from /presentations/nonce.");
        }

        if (record.ExpiresAt <= now.UtcDateTime)
        {
            return Refuse("nonce_expired", "The key-binding JWT's nonce has expired.");
        }

        // Spent before anything else is looked at, so two exchanges racing with one presentation cannot both pass.
        var spent = await db.PresentationRequests.Where(r => r.Id == record.Id && r.Status == PresentationRequestRecord.Pending)
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.Status, PresentationRequestRecord.Redeemed).SetProperty(r => r.AnsweredAt, now.UtcDateTime), cancellationToken);
        if (spent != 1)
        {
            return Refuse("nonce_used", "The key-binding JWT's nonce was already used: a presentation is exchanged once.");
        }

        if (!exchangeable.Contains(record.PresentationId) || !configuration.Current.Verifier.Presentations.TryGetValue(record.PresentationId, out var definition))
        {
            return Refuse("presentation_not_allowed", "No exchange policy of this client names the presentation this nonce was taken for.");
        }

        var vpToken = new JsonObject { [definition.Query.Credentials[0].Id] = new JsonArray(presentation) }.ToJsonString();
        var (verified, refusal) = await verifier.VerifyAsync(vpToken, definition, new KeyBindingExpectation(clientId, nonce!), cancellationToken);
        if (verified is null)
        {
            return (null, refusal);
        }

        var model = configuration.Current.Verifier;
        var issuerName = model.Issuers.Values.FirstOrDefault(i => i.Id == verified.Issuers[0])?.Issuer ?? verified.Issuers[0];
        audit.Record(new AuditEvent(AuditEvents.PresentationVerified, AuditEvent.Success)
        {
            ClientId = clientId,
            Detail = new Dictionary<string, string?>
            {
                ["presentation"] = definition.Id,
                ["flow"] = "exchange",
                ["issuers"] = string.Join(' ', verified.Issuers.Distinct()),
                ["claims"] = string.Join(' ', verified.Claims.Select(c => c.Key)), // names only, never values
            },
        });
        return (new ExchangedPresentation(definition.Id, PresentationRequests.PairwiseSubject(issuer, clientId, verified.HolderKeyThumbprint), issuerName,
            verified.Claims, verified.ExpiresAt), null);
    }

    private static (ExchangedPresentation?, PresentationRefusal?) Refuse(string reason, string description) => (null, new PresentationRefusal(reason, description));

    private (ExchangeNonce?, VerifierError?) Fail(int status, string error, string description, string reason, string clientId)
    {
        audit.Record(new AuditEvent(AuditEvents.PresentationRefused, AuditEvent.Failure)
        {
            ClientId = clientId,
            Reason = reason,
            Detail = new Dictionary<string, string?> { ["flow"] = "exchange" },
        });
        return (null, new VerifierError(status, error, description, reason));
    }
}
