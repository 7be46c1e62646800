using Microsoft.EntityFrameworkCore;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Admin;

/// <summary>
/// A customer admin's session in the setup portal: a cookie holding a random secret (its hash is stored), bound to the
/// one organization whose setup link opened it, ending after an idle timeout, a lifetime, or when its link is revoked.
/// </summary>
public sealed class PortalSessions(TesseraDbContext db, TesseraConfiguration configuration, TesseraIssuer issuer, TimeProvider time)
{
    public const string CookieName = "tessera.portal";

    /// <summary>The live session the request's cookie names, its last activity moved to now; null otherwise.</summary>
    public async Task<PortalSessionRecord?> FindAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var secret = http.Request.Cookies[CookieName];
        if (secret is not { Length: >= 32 and <= 100 })
        {
            return null;
        }

        var hash = Sessions.SessionStore.Hash(secret);
        var session = await db.PortalSessions.FirstOrDefaultAsync(s => s.SecretHash == hash, cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var model = configuration.Current;
        if (session is null || session.EndedAt is not null || session.ExpiresAt <= now || session.LastSeenAt + model.Portal.IdleTimeout <= now
            || !ConfigurationResources.OrganizationExists(model.File, model.Managed, session.OrganizationId))
        {
            return null;
        }

        if (now - session.LastSeenAt > TimeSpan.FromSeconds(30))
        {
            session.LastSeenAt = now; // sliding, but not a write per request
            await db.SaveChangesAsync(cancellationToken);
        }

        return session;
    }

    public async Task EndAsync(HttpContext http, PortalSessionRecord session, CancellationToken cancellationToken)
    {
        await db.PortalSessions.Where(s => s.Id == session.Id && s.EndedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.EndedAt, time.GetUtcNow().UtcDateTime), cancellationToken);
        http.Response.Cookies.Delete(CookieName, Options(null));
    }

    public void WriteCookie(HttpContext http, string secret, DateTime expires) =>
        http.Response.Cookies.Append(CookieName, secret, Options(new DateTimeOffset(expires, TimeSpan.Zero)));

    // Lax, not Strict: the admin comes back from their IdP after a test sign-in, a navigation that starts on the IdP's site.
    private CookieOptions Options(DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        Secure = !(issuer.Uri.Scheme == Uri.UriSchemeHttp && issuer.Uri.IsLoopback),
        SameSite = SameSiteMode.Lax,
        Path = issuer.PathBase + "/portal",
        Expires = expires,
        IsEssential = true,
    };
}
