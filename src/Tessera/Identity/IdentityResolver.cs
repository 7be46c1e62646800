using Microsoft.EntityFrameworkCore;
using Tessera.Federation;
using Tessera.Storage;

namespace Tessera.Identity;

/// <summary>
/// Maps an upstream identity to its internal user. The key is (organization, connection, upstream subject) and
/// nothing else: email is stored as an attribute, so the same address in two organizations is two users.
/// </summary>
public sealed class IdentityResolver(TesseraDbContext db, TimeProvider time)
{
    /// <summary>The user an upstream identity is already linked to, without creating or updating anything.</summary>
    public Task<UserRecord?> FindAsync(UpstreamIdentity identity, CancellationToken cancellationToken) =>
        db.ExternalIdentities
            .Where(l => l.OrganizationId == identity.OrganizationId && l.ConnectionId == identity.ConnectionId && l.Subject == identity.Subject)
            .Join(db.Users, l => l.UserId, u => u.Id, (_, u) => u)
            .AsNoTracking()
            .FirstOrDefaultAsync(cancellationToken);

    public async Task<UserRecord> ResolveAsync(UpstreamIdentity identity, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var link = await db.ExternalIdentities.FirstOrDefaultAsync(l =>
            l.OrganizationId == identity.OrganizationId && l.ConnectionId == identity.ConnectionId && l.Subject == identity.Subject, cancellationToken);

        UserRecord? user = null;
        if (link is not null)
        {
            user = await db.Users.FirstOrDefaultAsync(u => u.Id == link.UserId, cancellationToken);
        }

        if (user is null)
        {
            user = new UserRecord { Id = Guid.NewGuid(), OrganizationId = identity.OrganizationId, CreatedAt = now };
            db.Users.Add(user);
        }

        if (link is null)
        {
            link = new ExternalIdentityRecord
            {
                OrganizationId = identity.OrganizationId,
                ConnectionId = identity.ConnectionId,
                Subject = identity.Subject,
                UserId = user.Id,
                CreatedAt = now,
            };
            db.ExternalIdentities.Add(link);
        }

        link.UserId = user.Id;
        link.LastSignInAt = now;
        user.Email = identity.Email ?? user.Email;
        user.EmailVerified = identity.Email is not null ? identity.EmailVerified : user.EmailVerified;
        user.Name = identity.Name ?? user.Name;
        user.GivenName = identity.GivenName ?? user.GivenName;
        user.FamilyName = identity.FamilyName ?? user.FamilyName;
        user.UpdatedAt = now;

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (link.Id == 0)
        {
            // Two first sign-ins of the same person raced; the other one created the link. Use it.
            db.ChangeTracker.Clear();
            return await ResolveAsync(identity, cancellationToken);
        }

        return user;
    }
}
