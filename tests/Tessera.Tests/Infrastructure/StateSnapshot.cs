using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Tessera.Tests.Infrastructure;

/// <summary>Counts of everything a request could create; equal snapshots mean the request changed nothing.</summary>
public sealed record StateSnapshot(int Users, int Links, int Sessions, int LiveSessions, int Tokens, int ValidTokens, int Authorizations, int ValidAuthorizations, int RevokedTokens, int PendingLogins)
{
    public static Task<StateSnapshot> TakeAsync(TesseraTestServer server) => server.WithDbAsync(async db => new StateSnapshot(
        await db.Users.CountAsync(),
        await db.ExternalIdentities.CountAsync(),
        await db.Sessions.CountAsync(),
        await db.Sessions.CountAsync(s => s.EndedAt == null),
        await db.Set<OpenIddictEntityFrameworkCoreToken>().CountAsync(),
        await db.Set<OpenIddictEntityFrameworkCoreToken>().CountAsync(t => t.Status == "valid"),
        await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().CountAsync(),
        await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().CountAsync(a => a.Status == "valid"),
        await db.RevokedTokens.CountAsync(),
        await db.PendingLogins.CountAsync()));
}
