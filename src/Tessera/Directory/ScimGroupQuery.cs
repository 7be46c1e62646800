using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// The groups of one organization that a SCIM filter selects (RFC 7644 §3.4.2.2), as a LINQ query EF Core turns into
/// parameterized SQL. <c>members</c> is answered from the memberships: a member's value is the user's id, its display
/// the user's displayName, its type "User".
/// </summary>
public static class ScimGroupQuery
{
    /// <summary>Throws <see cref="ScimFilterException"/> (invalidFilter) for a filter that cannot apply to groups.</summary>
    public static IQueryable<DirectoryGroupRecord> Groups(TesseraDbContext db, string organizationId, ScimFilter? filter)
    {
        var groups = db.DirectoryGroups.Where(g => g.OrganizationId == organizationId);
        return filter is null ? groups : groups.Where(new GroupFilter(db, organizationId).Filter(filter));
    }

    /// <summary>
    /// The list order: <paramref name="sort"/>'s attribute (missing values last either way), then the id; without a
    /// sort, displayName (case-insensitively) then id.
    /// </summary>
    public static IOrderedQueryable<DirectoryGroupRecord> Order(IQueryable<DirectoryGroupRecord> groups, ScimSort? sort)
    {
        var descending = sort?.Descending ?? false;
        var ordered = sort?.Attribute switch
        {
            null or "displayName" => ScimSort.First(groups, g => g.DisplayNameKey, descending),
            "externalId" => ScimSort.Then(groups.OrderBy(g => g.ExternalId == null), g => g.ExternalId, descending),
            "meta.created" => ScimSort.First(groups, g => g.CreatedAt, descending),
            "meta.lastModified" => ScimSort.First(groups, g => g.UpdatedAt, descending),
            "id" => ScimSort.First(groups, g => g.Id, descending),
            _ => throw new ArgumentException($"groups cannot be sorted by {sort.Attribute}", nameof(sort)),
        };
        return ScimSort.Then(ordered, g => g.Id, descending);
    }

    private sealed class GroupFilter(TesseraDbContext db, string organizationId) : ScimFilterTranslator<DirectoryGroupRecord>
    {
        private readonly bool _postgres = db.Database.IsNpgsql();

        protected override ScimFilterAttribute Resolve(ScimAttributePath path) => ScimFilterAttribute.Resolve(ScimSchemas.GroupType, path);

        public override Expression<Func<DirectoryGroupRecord, bool>> Present(ScimFilterAttribute attribute)
        {
            switch (attribute.Attribute.Name.ToLowerInvariant())
            {
                case "externalid":
                    return g => g.ExternalId != null && g.ExternalId != "";
                case "members":
                    if (attribute.Sub?.Name == "display")
                    {
                        return WithMembers(new MemberValue(_postgres).Present(attribute));
                    }

                    var groupIds = db.DirectoryMembers.Select(m => m.GroupId);
                    return g => groupIds.Contains(g.Id);
                default:
                    return g => g.DisplayNameKey != "";
            }
        }

        public override Expression<Func<DirectoryGroupRecord, bool>> Positive(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
        {
            switch (attribute.Key)
            {
                case "id":
                    return ScimPredicate.On((DirectoryGroupRecord g) => g.Id, ScimComparison.OnId(attribute, op, value));
                case "externalid":
                    return ScimPredicate.On((DirectoryGroupRecord g) => g.ExternalId, ScimComparison.OnNullableKey(attribute, op, value, _postgres));
                case "displayname":
                    return ScimPredicate.On((DirectoryGroupRecord g) => g.DisplayNameKey, ScimComparison.OnKey(attribute, op, value, _postgres));
                case "meta.created":
                    return ScimPredicate.On((DirectoryGroupRecord g) => g.CreatedAt, ScimComparison.OnTime(attribute, op, value));
                case "meta.lastmodified":
                    return ScimPredicate.On((DirectoryGroupRecord g) => g.UpdatedAt, ScimComparison.OnTime(attribute, op, value));
                case "meta.resourcetype":
                    return ScimPredicate.Always<DirectoryGroupRecord>(ScimComparison.OnConstant(attribute, "Group", op, value));
                case "members.value" or "members.display" or "members.type":
                    return WithMembers(new MemberValue(_postgres).Positive(attribute, op, value));
                default:
                    throw NotFilterable(attribute);
            }
        }

        // RFC 7644 §3.4.2.2 valuePath: one member satisfies the whole inner filter; a member is one user.
        protected override Expression<Func<DirectoryGroupRecord, bool>> ValuePath(ScimFilterAttribute attribute, ScimFilter inner) =>
            attribute.Key == "members"
                ? WithMembers(new MemberValue(_postgres).Filter(inner))
                : throw NotComplex(attribute);

        private Expression<Func<DirectoryGroupRecord, bool>> WithMembers(Expression<Func<DirectoryUserRecord, bool>> member)
        {
            var userIds = db.DirectoryUsers.Where(u => u.OrganizationId == organizationId).Where(member).Select(u => u.UserId);
            var groupIds = db.DirectoryMembers.Where(m => userIds.Contains(m.UserId)).Select(m => m.GroupId);
            return g => groupIds.Contains(g.Id);
        }
    }

    /// <summary>One value of a group's <c>members</c>: a user in the group.</summary>
    private sealed class MemberValue(bool postgres) : ScimFilterTranslator<DirectoryUserRecord>
    {
        private static readonly ScimFilterAttribute Members = new(ScimSchemas.Group, ScimSchemas.Group.Attribute("members")!, null);

        protected override ScimFilterAttribute Resolve(ScimAttributePath path) => Members.Inner(path);

        public override Expression<Func<DirectoryUserRecord, bool>> Present(ScimFilterAttribute attribute) =>
            attribute.Sub?.Name == "display" ? u => u.DisplayNameKey != null && u.DisplayNameKey != "" : _ => true;

        public override Expression<Func<DirectoryUserRecord, bool>> Positive(ScimFilterAttribute attribute, ScimOperator op, ScimValue value) =>
            attribute.Key switch
            {
                "members.value" => ScimPredicate.On((DirectoryUserRecord u) => u.UserId, ScimComparison.OnId(attribute, op, value)),
                "members.display" => ScimPredicate.On((DirectoryUserRecord u) => u.DisplayNameKey, ScimComparison.OnNullableKey(attribute, op, value, postgres)),
                "members.type" => ScimPredicate.Always<DirectoryUserRecord>(ScimComparison.OnConstant(attribute, "User", op, value)),
                _ => throw NotFilterable(attribute),
            };
    }
}
