using Microsoft.EntityFrameworkCore;
using Tessera.Federation;
using Tessera.Sessions;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// Group membership from SCIM feeds the organization's mapping rules the way an upstream <c>groups</c> claim does:
/// a rule's <c>groups</c> condition matches a provisioned group's display name or id. Read at every token issuance,
/// so a membership change applies to the next token without a new sign-in.
/// </summary>
public sealed class DirectoryGrants(TesseraDbContext db, ConnectionDirectory directory)
{
    public const string GroupsClaim = "groups";

    /// <summary>What the sign-in granted, together with what the user's provisioned groups grant now.</summary>
    public async Task<SessionGrants> ForAsync(Guid userId, string organizationId, SessionGrants signIn, CancellationToken cancellationToken)
    {
        var organization = directory.FindOrganization(organizationId);
        if (organization is null || organization.Rules.Count == 0)
        {
            return signIn;
        }

        var groups = await (from m in db.DirectoryMembers
                            join g in db.DirectoryGroups on m.GroupId equals g.Id
                            where m.UserId == userId && g.OrganizationId == organizationId
                            select new { g.Id, g.DisplayName }).AsNoTracking().ToListAsync(cancellationToken);
        if (groups.Count == 0)
        {
            return signIn;
        }

        var values = groups.SelectMany(g => new[] { g.DisplayName, g.Id.ToString() }).ToList();
        var fromGroups = MappingRules.Evaluate(organization.Rules, new Dictionary<string, IReadOnlyList<string>> { [GroupsClaim] = values });
        var claims = new Dictionary<string, string>(fromGroups.Claims, StringComparer.Ordinal);
        foreach (var (name, value) in signIn.Claims)
        {
            claims[name] = value;
        }

        return new SessionGrants([.. signIn.Scopes.Union(fromGroups.Scopes, StringComparer.Ordinal).Order(StringComparer.Ordinal)], claims);
    }
}
