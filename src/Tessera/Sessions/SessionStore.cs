using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Sessions;

/// <summary>
/// Server-side SSO sessions. A session lives until the first of: its absolute lifetime, the idle timeout,
/// the upstream session's end, or an explicit end (sign-out, revocation).
/// </summary>
public sealed class SessionStore(TesseraDbContext db, TesseraConfiguration configuration, TimeProvider time)
{
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    private sealed record SessionAndUserState(SessionRecord Session, DateTime? DisabledAt);

    /// <summary>A session and its user's disabled state in one query: every code and refresh token redeemed asks it.</summary>
    private static readonly CompiledQuery<Func<TesseraDbContext, string, CancellationToken, Task<SessionAndUserState?>>> SessionWithUserState = new(() =>
        EF.CompileAsyncQuery((TesseraDbContext db, string sessionId, CancellationToken _) => db.Sessions.Where(s => s.Id == sessionId)
            .Select(s => new SessionAndUserState(s, db.Users.Where(u => u.Id == s.UserId).Select(u => u.DisabledAt).FirstOrDefault()))
            .FirstOrDefault()));

    public async Task<(SessionRecord Session, string CookieValue)> CreateAsync(
        UserRecord user, UpstreamIdentity identity, ConnectionOptions connection, SessionGrants grants, CancellationToken cancellationToken)
    {
        var options = configuration.Current.Sessions;
        var now = time.GetUtcNow();
        var expires = now + options.AbsoluteLifetime;
        if (connection.MaxSessionLifetime is { } max && now + max < expires)
        {
            expires = now + max;
        }

        if (identity.SessionExpiresAt is { } upstreamEnd && upstreamEnd < expires)
        {
            expires = upstreamEnd;
        }

        var secret = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var session = new SessionRecord
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            SecretHash = Hash(secret),
            UserId = user.Id,
            OrganizationId = identity.OrganizationId,
            ConnectionId = identity.ConnectionId,
            Grants = grants.ToJson(),
            AuthenticatedAt = now.UtcDateTime,
            LastSeenAt = now.UtcDateTime,
            ExpiresAt = expires.UtcDateTime,
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return (session, secret);
    }

    /// <summary>The live session the cookie names, refreshing its idle timer; null when there is none.</summary>
    public async Task<SessionRecord?> FindByCookieAsync(string? cookieValue, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(cookieValue) || cookieValue.Length > 100)
        {
            return null;
        }

        var hash = Hash(cookieValue);
        var session = await db.Sessions.FirstOrDefaultAsync(s => s.SecretHash == hash, cancellationToken);
        return await TouchIfActiveAsync(session, cancellationToken);
    }

    /// <summary>
    /// As <see cref="FindByCookieAsync"/>, with the session's user read in the same query (null if the row is gone): the
    /// authorization endpoint needs both for every code it issues.
    /// </summary>
    public async Task<(SessionRecord? Session, UserRecord? User)> FindByCookieWithUserAsync(string? cookieValue, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(cookieValue) || cookieValue.Length > 100)
        {
            return (null, null);
        }

        var hash = Hash(cookieValue);
        var found = await (
                from session in db.Sessions
                where session.SecretHash == hash
                join user in db.Users on session.UserId equals user.Id into users
                from user in users.DefaultIfEmpty()
                select new { session, user })
            .FirstOrDefaultAsync(cancellationToken);
        var active = await TouchIfActiveAsync(found?.session, cancellationToken);
        return (active, active is null ? null : found!.user);
    }

    public async Task<SessionRecord?> FindActiveByIdAsync(string? sessionId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sessionId))
        {
            return null;
        }

        // By key: a second lookup in the same request (the token endpoint's handlers each ask) is answered from the
        // context's tracked entities, without another query.
        var session = await db.Sessions.FindAsync([sessionId], cancellationToken);
        return await TouchIfActiveAsync(session, cancellationToken);
    }

    /// <summary>
    /// The live session <paramref name="sessionId"/> names (as <see cref="FindActiveByIdAsync"/> finds it) and whether its
    /// user is disabled, read in one query: a code or refresh token is redeemed only when both hold.
    /// </summary>
    public async Task<(SessionRecord? Session, bool UserDisabled)> FindActiveWithUserStateAsync(string? sessionId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sessionId))
        {
            return (null, false);
        }

        var found = await SessionWithUserState.For(db)(db, sessionId, cancellationToken);
        return (await TouchIfActiveAsync(found?.Session, cancellationToken), found?.DisabledAt is not null);
    }

    public bool IsActive(SessionRecord session)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return session.EndedAt is null && now < session.ExpiresAt && now < session.LastSeenAt + configuration.Current.Sessions.IdleTimeout;
    }

    private async Task<SessionRecord?> TouchIfActiveAsync(SessionRecord? session, CancellationToken cancellationToken)
    {
        if (session is null || !IsActive(session))
        {
            return null;
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (now - session.LastSeenAt >= TouchInterval)
        {
            session.LastSeenAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        return session;
    }

    public static string Hash(string value) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
