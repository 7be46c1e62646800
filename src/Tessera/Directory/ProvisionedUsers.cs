using Microsoft.EntityFrameworkCore;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// Where SCIM meets sign-in. Before a sign-in resolves its user, an upstream identity that has no link yet is linked
/// to the provisioned user it matches (the organization's <c>Scim.Match</c>: the verified email against
/// <c>userName</c> or the primary email, or the upstream subject against <c>externalId</c>), within that organization
/// only. An organization that requires provisioning refuses everyone else.
/// </summary>
public sealed class ProvisionedUsers(TesseraDbContext db, ConnectionDirectory directory, TimeProvider time)
{
    /// <summary>Links the identity to its provisioned user if it matches one; says whether the sign-in may go on.</summary>
    /// <param name="linked">The user the identity is linked to already, if any (the caller has read its link).</param>
    public async Task<ProvisioningCheck> PrepareAsync(UpstreamIdentity identity, Guid? linked, CancellationToken cancellationToken)
    {
        var organization = directory.FindOrganization(identity.OrganizationId);
        if (linked is null && await MatchAsync(organization, identity, cancellationToken) is { } match)
        {
            linked = await LinkAsync(identity, match, cancellationToken);
        }

        if (organization?.Scim.RequireProvisioning == true
            && (linked is null || !await db.DirectoryUsers.AnyAsync(d => d.UserId == linked.Value, cancellationToken)))
        {
            return ProvisioningCheck.NotProvisioned;
        }

        return ProvisioningCheck.Allowed;
    }

    private async Task<Guid?> MatchAsync(Federation.Organization? organization, UpstreamIdentity identity, CancellationToken cancellationToken)
    {
        if (organization is null)
        {
            return null;
        }

        var provisioned = db.DirectoryUsers.AsNoTracking().Where(d => d.OrganizationId == organization.Id);
        List<Guid> candidates;
        if (organization.Scim.Match == ScimOptions.MatchExternalId)
        {
            candidates = await provisioned.Where(d => d.ExternalId == identity.Subject).Select(d => d.UserId).OrderBy(id => id).Take(2).ToListAsync(cancellationToken);
        }
        else
        {
            // An address is matched only when the upstream vouches for it: OpenID Connect's email_verified, or a SAML
            // assertion, which is the organization's own IdP speaking.
            var connection = directory.FindConnection(identity.ConnectionId);
            var vouched = identity.EmailVerified || connection?.Options.Protocol == SamlConnector.ProtocolName;
            if (string.IsNullOrEmpty(identity.Email) || !vouched)
            {
                return null;
            }

            var email = identity.Email.ToLowerInvariant();
            var byUserName = await provisioned.Where(d => d.UserNameKey == email).Select(d => d.UserId).OrderBy(id => id).Take(2).ToListAsync(cancellationToken);
            candidates = byUserName.Count > 0
                ? byUserName
                : await provisioned.Where(d => db.Users.Any(u => u.Id == d.UserId && u.Email != null && u.Email.ToLower() == email))
                    .Select(d => d.UserId).OrderBy(id => id).Take(2).ToListAsync(cancellationToken);
        }

        // Two provisioned users fitting one sign-in is a directory the organization must fix; link neither.
        return candidates.Count == 1 ? candidates[0] : null;
    }

    private async Task<Guid> LinkAsync(UpstreamIdentity identity, Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        db.ExternalIdentities.Add(new ExternalIdentityRecord
        {
            OrganizationId = identity.OrganizationId,
            ConnectionId = identity.ConnectionId,
            Subject = identity.Subject,
            UserId = userId,
            CreatedAt = now,
            LastSignInAt = now,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return userId;
        }
        catch (DbUpdateException exception) when (!StorageOutage.IsUnavailable(exception))
        {
            // A concurrent first sign-in made the link; it is the one that counts.
            db.ChangeTracker.Clear();
            return await db.ExternalIdentities.AsNoTracking()
                .Where(l => l.OrganizationId == identity.OrganizationId && l.ConnectionId == identity.ConnectionId && l.Subject == identity.Subject)
                .Select(l => l.UserId).FirstAsync(cancellationToken);
        }
    }
}

public enum ProvisioningCheck
{
    Allowed,
    NotProvisioned,
}
