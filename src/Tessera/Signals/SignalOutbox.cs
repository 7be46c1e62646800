using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Protocol;
using Tessera.Storage;

namespace Tessera.Signals;

/// <summary>
/// Writes signals into the outbox on the caller's context, so they are committed with the change they report or not
/// at all. One event per ended session (and per account disabled or enabled), one delivery per destination that must
/// hear it: each client with a <c>BackchannelLogoutUri</c> that was granted tokens under the session, and each receiver
/// whose filters take it. The dispatcher sends them after the commit.
/// </summary>
public sealed class SignalOutbox(TesseraDbContext db, TesseraConfiguration configuration, ClientRegistry clients, SignalWake wake, TimeProvider time)
{
    public async Task SessionsRevokedAsync(IReadOnlyCollection<SessionRecord> sessions, string reason, string initiatingEntity, CancellationToken cancellationToken)
    {
        if (sessions.Count == 0)
        {
            return;
        }

        var ids = sessions.Select(s => s.Id).ToList();
        var clientsBySession = (await db.SessionAuthorizations.Where(l => ids.Contains(l.SessionId))
                .Select(l => new { l.SessionId, l.ClientId }).Distinct().ToListAsync(cancellationToken))
            .ToLookup(l => l.SessionId, l => l.ClientId, StringComparer.Ordinal);

        foreach (var session in sessions)
        {
            var logoutClients = clientsBySession[session.Id]
                .Where(id => clients.Find(id)?.BackchannelLogoutUri is not null)
                .Order(StringComparer.Ordinal);
            Add(SignalTypes.SessionRevoked, session.UserId, session.OrganizationId, session.Id, reason, initiatingEntity, logoutClients);
        }
    }

    public void AccountDisabled(UserRecord user, string reason, string initiatingEntity) =>
        Add(SignalTypes.AccountDisabled, user.Id, user.OrganizationId, null, reason, initiatingEntity, []);

    /// <summary>An anomaly rule raised the user's risk: receivers hear it (CAEP risk-level-change); applications have no such event.</summary>
    public void RiskLevelChange(UserRecord user, string reason, string initiatingEntity) =>
        Add(SignalTypes.RiskLevelChange, user.Id, user.OrganizationId, null, reason, initiatingEntity, []);

    public void AccountEnabled(UserRecord user, string reason, string initiatingEntity) =>
        Add(SignalTypes.AccountEnabled, user.Id, user.OrganizationId, null, reason, initiatingEntity, []);

    private void Add(string type, Guid userId, string organizationId, string? sessionId, string reason, string initiatingEntity, IEnumerable<string> logoutClients)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var signal = new SignalEventRecord
        {
            Type = type,
            UserId = userId,
            OrganizationId = organizationId,
            SessionId = sessionId,
            InitiatingEntity = initiatingEntity,
            Reason = reason.Length > 200 ? reason[..200] : reason,
            OccurredAt = now,
        };

        var deliveries = logoutClients.Select(client => (SignalChannels.BackchannelLogout, client))
            .Concat(configuration.Current.Signals.Receivers
                .Where(r => r.Events.Count == 0 || r.Events.Contains(type, StringComparer.Ordinal))
                .Where(r => r.Organizations.Count == 0 || r.Organizations.Contains(organizationId, StringComparer.Ordinal))
                .Select(r => (r.Delivery == SignalReceiverOptions.Poll ? SignalChannels.Poll : SignalChannels.Push, r.Id)))
            .ToList();
        db.SignalEvents.Add(signal);
        foreach (var (channel, destination) in deliveries)
        {
            db.SignalDeliveries.Add(new SignalDeliveryRecord
            {
                Event = signal,
                Channel = channel,
                Destination = destination,
                TokenId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(18)),
                NextAttemptAt = now,
                CreatedAt = now,
            });
        }

        if (deliveries.Count > 0)
        {
            wake.AfterCommit(db);
        }
    }
}
