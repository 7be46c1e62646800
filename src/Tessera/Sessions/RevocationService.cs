using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using Tessera.Audit;
using Tessera.Signals;
using Tessera.Storage;

namespace Tessera.Sessions;

/// <summary>
/// The one place access ends, whatever the cause (SCIM deactivation, sign-out, a replayed refresh token, an operator):
/// a session and every token family granted under it, a user and everything of theirs, or one token family. Takes
/// effect before the call returns; nothing waits for a token to expire. Whoever must hear of it (clients by back-channel
/// logout, receivers by Security Event Token) is written into the outbox in the same transaction (<see cref="SignalOutbox"/>).
/// </summary>
public sealed class RevocationService(
    TesseraDbContext db,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    SignalOutbox signals,
    AuditLog audit,
    TimeProvider time)
{
    /// <summary>
    /// Ends one SSO session and every token family granted under it, and records the session-revoked signal (back-channel
    /// logout to the session's clients, SETs to receivers) in the same transaction. False when it had already ended.
    /// </summary>
    public async Task<bool> EndSessionAsync(string sessionId, string reason, string initiatingEntity, AuditEvent? context, CancellationToken cancellationToken)
    {
        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        try
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
                await signals.SessionsRevokedAsync([session], reason, initiatingEntity, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }

            var families = await db.SessionAuthorizations.Where(l => l.SessionId == sessionId).Select(l => l.AuthorizationId).ToListAsync(cancellationToken);
            foreach (var authorizationId in families)
            {
                await RevokeFamilyAsync(authorizationId, cancellationToken);
            }

            if (ended)
            {
                // In the same transaction as the end of the session: both are stored, or neither.
                audit.Stage(db, (context ?? new AuditEvent(AuditEvents.SessionEnded, AuditEvent.Success)) with
                {
                    Event = AuditEvents.SessionEnded,
                    Outcome = AuditEvent.Success,
                    OrganizationId = session.OrganizationId,
                    UserId = session.UserId.ToString(),
                    ConnectionId = session.ConnectionId,
                    Reason = reason,
                    Detail = new Dictionary<string, string?> { ["sid"] = session.Id, ["token_families"] = Count(families.Count) },
                });
                await db.SaveChangesAsync(cancellationToken);
            }

            if (own is not null)
            {
                await own.CommitAsync(cancellationToken);
            }

            return ended;
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A token of the family was replayed (RFC 9700 §4.14.2): whoever holds the family may hold more, so the family is
    /// revoked and the session it was granted under ends everywhere. A family granted outside any session (none is,
    /// today) is only revoked.
    /// </summary>
    public async Task EndSessionOfFamilyAsync(string authorizationId, string reason, AuditEvent? context, CancellationToken cancellationToken)
    {
        var sessionId = await db.SessionAuthorizations.Where(l => l.AuthorizationId == authorizationId).Select(l => l.SessionId).FirstOrDefaultAsync(cancellationToken);
        if (sessionId is null)
        {
            await RevokeFamilyAsync(authorizationId, cancellationToken);
        }
        else
        {
            // Revokes every family of the session, this one included, even when the session had already ended.
            await EndSessionAsync(sessionId, reason, InitiatingEntities.Policy, context, cancellationToken);
        }
    }

    /// <summary>
    /// Cuts a user off everywhere, within the caller's request (DESIGN.md invariant 6): the user is disabled, every
    /// SSO session ends, every authorization and stored token of the user is revoked, and any token issued before now
    /// (those with no stored entry too: client-less exchanges) fails validation from now on, even after the user is
    /// enabled again. Joins the caller's transaction when there is one, so a deprovisioning request and its
    /// effects are stored together or not at all.
    /// </summary>
    public async Task<UserRevocation> DisableUserAsync(Guid userId, string reason, string initiatingEntity, AuditEvent? context, CancellationToken cancellationToken)
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

            var wasEnabled = user.DisabledAt is null;
            user.DisabledAt ??= now;
            user.TokensValidAfter = now;
            var sessions = await db.Sessions.Where(s => s.UserId == userId && s.EndedAt == null).ToListAsync(cancellationToken);
            foreach (var session in sessions)
            {
                session.EndedAt = now;
                session.EndReason = reason;
            }

            await signals.SessionsRevokedAsync(sessions, reason, initiatingEntity, cancellationToken);
            if (wasEnabled)
            {
                signals.AccountDisabled(user, reason, initiatingEntity);
            }

            await db.SaveChangesAsync(cancellationToken);
            var credentials = await Credentials.CredentialStatusLists.RevokeUserAsync(db, userId, reason, now, cancellationToken);
            var subject = userId.ToString();
            var families = await authorizations.RevokeBySubjectAsync(subject, cancellationToken);
            var revokedTokens = await tokens.RevokeBySubjectAsync(subject, cancellationToken);

            // In the same transaction as the revocation: both are stored, or neither.
            foreach (var session in sessions)
            {
                audit.Stage(db, (context ?? new AuditEvent(AuditEvents.SessionEnded, AuditEvent.Success)) with
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

            audit.Stage(db, (context ?? new AuditEvent(AuditEvents.UserAccessRevoked, AuditEvent.Success)) with
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
                    ["credentials"] = Count(credentials),
                },
            });
            await db.SaveChangesAsync(cancellationToken);
            if (own is not null)
            {
                await own.CommitAsync(cancellationToken);
            }

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

    /// <summary>
    /// Lets a disabled user sign in again and signals account-enabled. Tokens issued before the disable stay dead
    /// (<see cref="UserRecord.TokensValidAfter"/>). Joins the caller's transaction like <see cref="DisableUserAsync"/>.
    /// </summary>
    public async Task<bool> EnableUserAsync(UserRecord user, string reason, string initiatingEntity, AuditEvent? context, CancellationToken cancellationToken)
    {
        if (user.DisabledAt is null)
        {
            return false;
        }

        user.DisabledAt = null;
        signals.AccountEnabled(user, reason, initiatingEntity);
        audit.Stage(db, (context ?? new AuditEvent(AuditEvents.UserEnabled, AuditEvent.Success)) with
        {
            Event = AuditEvents.UserEnabled,
            Outcome = AuditEvent.Success,
            OrganizationId = user.OrganizationId,
            UserId = user.Id.ToString(),
            Reason = reason,
        });
        await db.SaveChangesAsync(cancellationToken);
        return true;
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
