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

    /// <summary>
    /// Cuts a user off everywhere, within the caller's request (DESIGN.md invariant 6): the user is disabled, every
    /// SSO session ends, every authorization and stored token of the user is revoked, and any token issued before now
    /// (those with no stored entry too: client-less exchanges) fails validation from now on, even after the user is
    /// enabled again. Joins the caller's transaction when there is one, so a deprovisioning request and its
    /// effects are stored together or not at all.
    /// </summary>
    public async Task<UserRevocation> DisableUserAsync(Guid userId, string reason, AuditEvent? context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, cancellationToken);
            if (user is null)
            {
                return new UserRevocation(0, 0, 0);
            }

            user.DisabledAt ??= now;
            user.TokensValidAfter = now;
            var sessions = await db.Sessions.Where(s => s.UserId == userId && s.EndedAt == null).ToListAsync(cancellationToken);
            foreach (var session in sessions)
            {
                session.EndedAt = now;
                session.EndReason = reason;
            }

            await db.SaveChangesAsync(cancellationToken);
            var subject = userId.ToString();
            var families = await authorizations.RevokeBySubjectAsync(subject, cancellationToken);
            var revokedTokens = await tokens.RevokeBySubjectAsync(subject, cancellationToken);
            if (own is not null)
            {
                await own.CommitAsync(cancellationToken);
            }

            foreach (var session in sessions)
            {
                audit.Record((context ?? new AuditEvent(AuditEvents.SessionEnded, AuditEvent.Success)) with
                {
                    Event = AuditEvents.SessionEnded,
                    Outcome = AuditEvent.Success,
                    OrganizationId = session.OrganizationId,
                    UserId = subject,
                    ConnectionId = session.ConnectionId,
                    Reason = reason,
                    Detail = new Dictionary<string, string?> { ["sid"] = session.Id },
                });
            }

            audit.Record((context ?? new AuditEvent(AuditEvents.UserAccessRevoked, AuditEvent.Success)) with
            {
                Event = AuditEvents.UserAccessRevoked,
                Outcome = AuditEvent.Success,
                OrganizationId = user.OrganizationId,
                UserId = subject,
                Reason = reason,
                Detail = new Dictionary<string, string?>
                {
                    ["sessions"] = Count(sessions.Count),
                    ["authorizations"] = Count(families),
                    ["tokens"] = Count(revokedTokens),
                },
            });
            return new UserRevocation(sessions.Count, families, revokedTokens);
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    private static string Count(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

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

/// <summary>What cutting a user off ended.</summary>
public sealed record UserRevocation(int Sessions, long Authorizations, long Tokens);
