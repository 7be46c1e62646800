using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using Tessera.Audit;
using Tessera.Storage;

namespace Tessera.Sessions;

/// <summary>
/// The one place access ends: a session and every token family granted under it, or one token family.
/// Takes effect before the call returns; nothing waits for a token to expire.
/// </summary>
public sealed class RevocationService(
    TesseraDbContext db,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    AuditLog audit,
    TimeProvider time)
{
    public async Task<bool> EndSessionAsync(string sessionId, string reason, AuditEvent? context, CancellationToken cancellationToken)
    {
        var session = await db.Sessions.FirstOrDefaultAsync(s => s.Id == sessionId, cancellationToken);
        if (session is null)
        {
            return false;
        }

        var ended = session.EndedAt is null;
        if (ended)
        {
            session.EndedAt = time.GetUtcNow().UtcDateTime;
            session.EndReason = reason;
            await db.SaveChangesAsync(cancellationToken);
        }

        var families = await db.SessionAuthorizations.Where(l => l.SessionId == sessionId).Select(l => l.AuthorizationId).ToListAsync(cancellationToken);
        foreach (var authorizationId in families)
        {
            await RevokeFamilyAsync(authorizationId, cancellationToken);
        }

        if (ended)
        {
            audit.Record((context ?? new AuditEvent(AuditEvents.SessionEnded, AuditEvent.Success)) with
            {
                Event = AuditEvents.SessionEnded,
                Outcome = AuditEvent.Success,
                OrganizationId = session.OrganizationId,
                UserId = session.UserId.ToString(),
                ConnectionId = session.ConnectionId,
                Reason = reason,
                Detail = new Dictionary<string, string?> { ["sid"] = session.Id, ["token_families"] = families.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            });
        }

        return ended;
    }

    /// <summary>Revokes an authorization (a token family: the code, refresh tokens and access tokens issued from one grant).</summary>
    public async Task RevokeFamilyAsync(string authorizationId, CancellationToken cancellationToken)
    {
        var authorization = await authorizations.FindByIdAsync(authorizationId, cancellationToken);
        if (authorization is not null)
        {
            await authorizations.TryRevokeAsync(authorization, cancellationToken);
        }

        await tokens.RevokeByAuthorizationIdAsync(authorizationId, cancellationToken);
    }
}
