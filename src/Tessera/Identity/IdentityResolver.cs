using Microsoft.EntityFrameworkCore;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Identity;

/// <summary>
/// Maps an upstream identity to its internal user. The key is (organization, connection, upstream subject) and
/// nothing else: email is stored as an attribute, so the same address in two organizations is two users.
/// </summary>
public sealed class IdentityResolver(TesseraDbContext db, TesseraConfiguration configuration, TimeProvider time, IdentityLinks links, LookupConnections lookups)
{
    // Token exchange finds a user on every request. A link never changes the user it points to, so which user is
    // remembered (IdentityLinks); whether that user is disabled is read from the database every time, so that
    // deprovisioning on any node takes effect at once. Plain SQL (valid on SQLite and PostgreSQL; names as in the
    // model of TesseraDbContext) on a lookup connection, prepared once: EF's query pipeline, and compiling the SQL
    // each time, cost more than the read itself.
    private const string LinkedUserSql = """
        SELECT u."Id", u."OrganizationId", u."DisabledAt"
        FROM external_identities AS l JOIN users AS u ON u."Id" = l."UserId"
        WHERE l."OrganizationId" = @organization AND l."ConnectionId" = @connection AND l."Subject" = @subject
        LIMIT 1
        """;

    private const string UserStateSql = """
        SELECT "DisabledAt" FROM users WHERE "Id" = @id
        """;

    /// <summary>
    /// The user an upstream identity is already linked to (its id, organization and whether it is disabled), without
    /// creating or updating anything.
    /// </summary>
    public async Task<UserRecord?> FindAsync(UpstreamIdentity identity, CancellationToken cancellationToken)
    {
        var key = (identity.OrganizationId, identity.ConnectionId, identity.Subject);
        await using var lookup = await lookups.OpenAsync(db, cancellationToken);
        if (links.Find(key) is { } userId)
        {
            var state = lookup.Command(UserStateSql, "@id");
            state.Parameters[0].Value = lookup.Guid(userId);
            await using (var reader = await state.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    return new UserRecord { Id = userId, OrganizationId = identity.OrganizationId, DisabledAt = reader.IsDBNull(0) ? null : reader.GetDateTime(0) };
                }
            }

            // The user is gone (and its links with it): forget the link and look it up afresh.
            links.Forget(key);
        }

        var linked = lookup.Command(LinkedUserSql, "@organization", "@connection", "@subject");
        linked.Parameters[0].Value = identity.OrganizationId;
        linked.Parameters[1].Value = identity.ConnectionId;
        linked.Parameters[2].Value = identity.Subject;
        UserRecord user;
        await using (var reader = await linked.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            user = new UserRecord
            {
                Id = reader.GetGuid(0),
                OrganizationId = reader.GetString(1),
                DisabledAt = reader.IsDBNull(2) ? null : reader.GetDateTime(2),
            };
        }

        links.Remember(key, user.Id);
        return user;
    }

    /// <summary>
    /// The stored link of an upstream identity and the user it points to, in one query, both tracked for
    /// <see cref="ResolveAsync(UpstreamIdentity, LinkedUser?, CancellationToken)"/> to update; null when there is no link.
    /// </summary>
    public async Task<LinkedUser?> FindLinkAsync(UpstreamIdentity identity, CancellationToken cancellationToken)
    {
        var found = await (
                from link in db.ExternalIdentities
                where link.OrganizationId == identity.OrganizationId && link.ConnectionId == identity.ConnectionId && link.Subject == identity.Subject
                join user in db.Users on link.UserId equals user.Id into users
                from user in users.DefaultIfEmpty()
                select new { link, user })
            .FirstOrDefaultAsync(cancellationToken);
        return found is null ? null : new LinkedUser(found.link, found.user);
    }

    public async Task<UserRecord> ResolveAsync(UpstreamIdentity identity, CancellationToken cancellationToken) =>
        await ResolveAsync(identity, await FindLinkAsync(identity, cancellationToken), cancellationToken);

    /// <summary>The internal user of an upstream identity, created on its first sign-in, its attributes updated on every one.</summary>
    /// <param name="linked">What <see cref="FindLinkAsync"/> found for <paramref name="identity"/> in this context.</param>
    public async Task<UserRecord> ResolveAsync(UpstreamIdentity identity, LinkedUser? linked, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var link = linked?.Link;
        var user = linked?.User;
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
        user.Attributes = KeptAttributes(identity.OrganizationId, identity.Claims);
        user.UpdatedAt = now;

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (link.Id == 0 && !StorageOutage.IsUnavailable(exception))
        {
            // Two first sign-ins of the same person raced; the other one created the link. Use it.
            db.ChangeTracker.Clear();
            return await ResolveAsync(identity, cancellationToken);
        }

        return user;
    }

    /// <summary>
    /// What a credential may later be made from, as JSON: the upstream claims a configured credential takes
    /// (<c>From</c>), and those the organization's rules read (a credential may carry what they grant). Nothing else
    /// of the upstream answer is kept on the user, and nothing at all while no credential is configured.
    /// </summary>
    private string KeptAttributes(string organizationId, IReadOnlyDictionary<string, IReadOnlyList<string>> claims)
    {
        var model = configuration.Current;
        var credentials = model.Declared.Credentials;
        if (credentials.Count == 0)
        {
            return "{}";
        }

        var wanted = credentials.SelectMany(c => c.Claims.Values.Select(v => v.From))
            .Concat(model.FindOrganization(organizationId)?.Rules.SelectMany(r => r.When.Keys) ?? [])
            .ToHashSet(StringComparer.Ordinal);
        return System.Text.Json.JsonSerializer.Serialize(claims.Where(c => wanted.Contains(c.Key)).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal));
    }
}

/// <summary>A stored link of an upstream identity, and its user (null if the user row is gone).</summary>
public sealed record LinkedUser(ExternalIdentityRecord Link, UserRecord? User);
