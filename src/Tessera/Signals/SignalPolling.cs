using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Signals;

/// <summary>
/// Poll delivery (RFC 8936) from the outbox: a receiver acknowledges what it has processed and is handed what it has
/// not. A SET stays pending until it is acknowledged (or reported as an error), so a receiver that crashes between
/// two polls gets it again, with the same <c>jti</c>.
/// </summary>
public sealed class SignalPolling(TesseraDbContext db, SignalTokens tokens, TesseraConfiguration configuration, AuditLog audit, TimeProvider time)
{
    /// <summary>RFC 8936 §2.4: marks acknowledged SETs delivered and reported ones refused. Unknown <c>jti</c>s are ignored.</summary>
    public async Task AcknowledgeAsync(SignalReceiverOptions receiver, IReadOnlyCollection<string> acknowledged, IReadOnlyDictionary<string, string> errors, CancellationToken cancellationToken)
    {
        if (acknowledged.Count == 0 && errors.Count == 0)
        {
            return;
        }

        var named = acknowledged.Concat(errors.Keys).Distinct(StringComparer.Ordinal).ToList();
        var deliveries = await db.SignalDeliveries.Include(d => d.Event)
            .Where(d => d.Channel == SignalChannels.Poll && d.Destination == receiver.Id && d.CompletedAt == null && named.Contains(d.TokenId))
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var delivery in deliveries)
        {
            var refused = errors.TryGetValue(delivery.TokenId, out var error);
            delivery.CompletedAt = now;
            delivery.Outcome = refused ? DeliveryOutcomes.Refused : DeliveryOutcomes.Delivered;
            delivery.LastError = error is { Length: > 300 } ? error[..300] : error;
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var delivery in deliveries)
        {
            audit.Record(delivery.Outcome == DeliveryOutcomes.Delivered
                ? SignalAudit.Delivery(delivery, AuditEvents.SignalDelivered, AuditEvent.Success, delivery.LastError)
                : SignalAudit.Delivery(delivery, AuditEvents.SignalRefused, AuditEvent.Failure, delivery.LastError));
        }
    }

    /// <summary>The oldest pending SETs of the receiver, at most <paramref name="maxEvents"/>, and whether more wait.</summary>
    public async Task<(IReadOnlyDictionary<string, string> Sets, bool MoreAvailable)> PendingAsync(SignalReceiverOptions receiver, int maxEvents, CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow().UtcDateTime - configuration.Current.Signals.GiveUpAfter;
        var deliveries = await db.SignalDeliveries.AsNoTracking().Include(d => d.Event)
            .Where(d => d.Channel == SignalChannels.Poll && d.Destination == receiver.Id && d.CompletedAt == null && d.Event!.OccurredAt >= since)
            .OrderBy(d => d.Id)
            .Take(maxEvents + 1)
            .ToListAsync(cancellationToken);
        var sets = deliveries.Take(maxEvents).ToDictionary(d => d.TokenId, d => tokens.SecurityEventToken(d.Event!, receiver, d.TokenId), StringComparer.Ordinal);
        return (sets, deliveries.Count > maxEvents);
    }
}
