using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// The users of one organization that a SCIM filter selects (RFC 7644 §3.4.2.2), as a LINQ query EF Core turns into
/// parameterized SQL on SQLite and PostgreSQL alike. Attributes with columns of their own are compared there; every
/// other value is looked up in <c>directory_user_values</c> as
/// <c>UserId IN (SELECT UserId FROM directory_user_values WHERE Attribute = @a AND SubAttribute = @s AND Key …)</c>,
/// so the (Attribute, SubAttribute, Key) index answers eq and sw; <c>groups</c> comes from the memberships.
/// </summary>
public static class ScimUserQuery
{
    /// <summary>Throws <see cref="ScimFilterException"/> (invalidFilter) for a filter that cannot apply to users.</summary>
    public static IQueryable<DirectoryUserRecord> Users(TesseraDbContext db, string organizationId, ScimFilter? filter)
    {
        var users = db.DirectoryUsers.Where(u => u.OrganizationId == organizationId);
        return filter is null ? users : users.Where(new UserFilter(db, organizationId).Filter(filter));
    }

    /// <summary>
    /// The list order: <paramref name="sort"/>'s attribute (missing values last either way), then the id, so pages are
    /// stable; without a sort, userName (case-insensitively) then id.
    /// </summary>
    public static IOrderedQueryable<DirectoryUserRecord> Order(IQueryable<DirectoryUserRecord> users, ScimSort? sort)
    {
        var descending = sort?.Descending ?? false;
        var ordered = sort?.Attribute switch
        {
            null or "userName" => ScimSort.First(users, u => u.UserNameKey, descending),
            "displayName" => ScimSort.Then(users.OrderBy(u => u.DisplayNameKey == null), u => u.DisplayNameKey, descending),
            "externalId" => ScimSort.Then(users.OrderBy(u => u.ExternalId == null), u => u.ExternalId, descending),
            "meta.created" => ScimSort.First(users, u => u.CreatedAt, descending),
            "meta.lastModified" => ScimSort.First(users, u => u.UpdatedAt, descending),
            "id" => ScimSort.First(users, u => u.UserId, descending),
            _ => throw new ArgumentException($"users cannot be sorted by {sort.Attribute}", nameof(sort)),
        };
        return ScimSort.Then(ordered, u => u.UserId, descending);
    }

    private sealed class UserFilter(TesseraDbContext db, string organizationId) : ScimFilterTranslator<DirectoryUserRecord>
    {
        private readonly bool _postgres = db.Database.IsNpgsql();

        protected override ScimFilterAttribute Resolve(ScimAttributePath path) => ScimFilterAttribute.Resolve(ScimSchemas.UserType, path);

        public override Expression<Func<DirectoryUserRecord, bool>> Present(ScimFilterAttribute attribute)
        {
            if (IsCore(attribute))
            {
                switch (attribute.Attribute.Name.ToLowerInvariant())
                {
                    case "id" or "meta" or "active":
                        return _ => true;
                    case "username":
                        return u => u.UserNameKey != "";
                    case "externalid":
                        return u => u.ExternalId != null && u.ExternalId != "";
                    case "displayname":
                        return u => u.DisplayNameKey != null && u.DisplayNameKey != "";
                    case "groups":
                        return InGroups(_ => true);
                }
            }

            // A complex attribute is present when any of its sub-attributes has a non-empty value.
            var name = RowAttribute(attribute);
            var sub = attribute.Sub?.Name.ToLowerInvariant();
            var rows = sub is null
                ? db.DirectoryUserValues.Where(v => v.Attribute == name && v.Key != "")
                : db.DirectoryUserValues.Where(v => v.Attribute == name && v.SubAttribute == sub && v.Key != "");
            var ids = rows.Select(v => v.UserId);
            return u => ids.Contains(u.UserId);
        }

        public override Expression<Func<DirectoryUserRecord, bool>> Positive(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
        {
            if (IsCore(attribute))
            {
                switch (attribute.Key)
                {
                    case "id":
                        return ScimPredicate.On((DirectoryUserRecord u) => u.UserId, ScimComparison.OnId(attribute, op, value));
                    case "externalid":
                        return ScimPredicate.On((DirectoryUserRecord u) => u.ExternalId, ScimComparison.OnNullableKey(attribute, op, value, _postgres));
                    case "username":
                        return ScimPredicate.On((DirectoryUserRecord u) => u.UserNameKey, ScimComparison.OnKey(attribute, op, value, _postgres));
                    case "displayname":
                        return ScimPredicate.On((DirectoryUserRecord u) => u.DisplayNameKey, ScimComparison.OnNullableKey(attribute, op, value, _postgres));
                    case "active":
                        return ScimPredicate.On((DirectoryUserRecord u) => u.Active, ScimComparison.OnFlag(attribute, op, value));
                    case "meta.created":
                        return ScimPredicate.On((DirectoryUserRecord u) => u.CreatedAt, ScimComparison.OnTime(attribute, op, value));
                    case "meta.lastmodified":
                        return ScimPredicate.On((DirectoryUserRecord u) => u.UpdatedAt, ScimComparison.OnTime(attribute, op, value));
                    case "meta.resourcetype":
                        return ScimPredicate.Always<DirectoryUserRecord>(ScimComparison.OnConstant(attribute, "User", op, value));
                    case "meta.location" or "meta.version":
                        throw NotFilterable(attribute);
                }

                if (attribute.Attribute.Name == "groups")
                {
                    return InGroups(new GroupValue(_postgres).Positive(attribute, op, value));
                }
            }

            var name = RowAttribute(attribute);
            var sub = attribute.Sub?.Name.ToLowerInvariant() ?? "";
            var ids = db.DirectoryUserValues
                .Where(v => v.Attribute == name && v.SubAttribute == sub)
                .Where(ScimPredicate.On<DirectoryUserValueRecord, string>(v => v.Key, ScimComparison.OnKey(attribute, op, value, _postgres)))
                .Select(v => v.UserId);
            return u => ids.Contains(u.UserId);
        }

        // RFC 7644 §3.4.2.2 valuePath: one value of the attribute satisfies the whole inner filter. The rows of that one
        // value share UserId and Ordinal. The inner filter's most selective positive term picks the candidate rows
        // through the (Attribute, SubAttribute, Key) index; the other terms are checked on rows of the same value.
        protected override Expression<Func<DirectoryUserRecord, bool>> ValuePath(ScimFilterAttribute attribute, ScimFilter inner)
        {
            if (attribute.Attribute.Type != ScimType.Complex || attribute.Sub is not null)
            {
                throw NotComplex(attribute);
            }

            if (IsCore(attribute) && attribute.Attribute.Name == "groups")
            {
                return InGroups(new GroupValue(_postgres).Filter(inner));
            }

            var element = new UserValue(db, attribute, RowAttribute(attribute), _postgres);
            var terms = Conjuncts(inner).ToList();
            var driver = terms.OfType<ScimFilter.Comparison>()
                .Where(c => c.Operator is not (ScimOperator.Ne or ScimOperator.Pr) && c.Value is { Kind: not System.Text.Json.JsonValueKind.Null })
                .OrderBy(c => c.Operator switch { ScimOperator.Eq => 0, ScimOperator.Sw => 1, _ => 2 })
                .FirstOrDefault();

            IQueryable<DirectoryUserValueRecord> candidates;
            if (driver is not null)
            {
                terms.Remove(driver);
                candidates = element.Rows(attribute.Inner(driver.Path).WithDefaultValue(), driver.Operator, driver.Value!);
            }
            else
            {
                var name = RowAttribute(attribute);
                candidates = db.DirectoryUserValues.Where(v => v.Attribute == name);
            }

            if (terms.Count > 0)
            {
                candidates = candidates.Where(terms.Select(element.Filter).Aggregate(ScimPredicate.And));
            }

            var ids = candidates.Select(v => v.UserId);
            return u => ids.Contains(u.UserId);
        }

        private Expression<Func<DirectoryUserRecord, bool>> InGroups(Expression<Func<DirectoryGroupRecord, bool>> group)
        {
            var groupIds = db.DirectoryGroups.Where(g => g.OrganizationId == organizationId).Where(group).Select(g => g.Id);
            var userIds = db.DirectoryMembers.Where(m => groupIds.Contains(m.GroupId)).Select(m => m.UserId);
            return u => userIds.Contains(u.UserId);
        }

        private static bool IsCore(ScimFilterAttribute attribute) => attribute.Schema is null || attribute.Schema == ScimSchemas.User;

        private static string RowAttribute(ScimFilterAttribute attribute) => ScimValueIndex.AttributeName(attribute.Schema!, attribute.Attribute);
    }

    /// <summary>One value of a multi-valued (or complex) attribute kept as value rows: the rows with its UserId and Ordinal.</summary>
    private sealed class UserValue(TesseraDbContext db, ScimFilterAttribute parent, string name, bool postgres) : ScimFilterTranslator<DirectoryUserValueRecord>
    {
        protected override ScimFilterAttribute Resolve(ScimAttributePath path) => parent.Inner(path);

        /// <summary>The rows of this attribute whose sub-attribute satisfies one comparison.</summary>
        public IQueryable<DirectoryUserValueRecord> Rows(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
        {
            var sub = attribute.Sub!.Name.ToLowerInvariant();
            return db.DirectoryUserValues
                .Where(v => v.Attribute == name && v.SubAttribute == sub)
                .Where(ScimPredicate.On<DirectoryUserValueRecord, string>(v => v.Key, ScimComparison.OnKey(attribute, op, value, postgres)));
        }

        public override Expression<Func<DirectoryUserValueRecord, bool>> Present(ScimFilterAttribute attribute)
        {
            var sub = attribute.Sub!.Name.ToLowerInvariant();
            var rows = db.DirectoryUserValues.Where(v => v.Attribute == name && v.SubAttribute == sub && v.Key != "");
            return value => rows.Any(v => v.UserId == value.UserId && v.Ordinal == value.Ordinal);
        }

        public override Expression<Func<DirectoryUserValueRecord, bool>> Positive(ScimFilterAttribute attribute, ScimOperator op, ScimValue value)
        {
            var rows = Rows(attribute, op, value);
            return candidate => rows.Any(v => v.UserId == candidate.UserId && v.Ordinal == candidate.Ordinal);
        }
    }

    /// <summary>One value of a user's <c>groups</c>: a group the user is a member of (value = its id, display = its name).</summary>
    private sealed class GroupValue(bool postgres) : ScimFilterTranslator<DirectoryGroupRecord>
    {
        private static readonly ScimFilterAttribute Groups = new(ScimSchemas.User, ScimSchemas.User.Attribute("groups")!, null);

        protected override ScimFilterAttribute Resolve(ScimAttributePath path) => Groups.Inner(path);

        public override Expression<Func<DirectoryGroupRecord, bool>> Present(ScimFilterAttribute attribute) => _ => true;

        public override Expression<Func<DirectoryGroupRecord, bool>> Positive(ScimFilterAttribute attribute, ScimOperator op, ScimValue value) =>
            attribute.Key switch
            {
                "groups.value" => ScimPredicate.On((DirectoryGroupRecord g) => g.Id, ScimComparison.OnId(attribute, op, value)),
                "groups.display" => ScimPredicate.On((DirectoryGroupRecord g) => g.DisplayNameKey, ScimComparison.OnKey(attribute, op, value, postgres)),
                "groups.type" => ScimPredicate.Always<DirectoryGroupRecord>(ScimComparison.OnConstant(attribute, "direct", op, value)),
                _ => throw NotFilterable(attribute),
            };
    }
}
