using System.Linq.Expressions;

namespace Tessera.Directory;

/// <summary>
/// A list's <c>sortBy</c> and <c>sortOrder</c> (RFC 7644 §3.4.2.3), resolved to one of the attributes Tessera can
/// sort by with an index. <see cref="Attribute"/> is spelled as in <see cref="UserAttributes"/> or
/// <see cref="GroupAttributes"/>.
/// </summary>
public sealed record ScimSort(string Attribute, bool Descending)
{
    /// <summary>What users can be sorted by (what ServiceProviderConfig and the docs may promise).</summary>
    public static readonly IReadOnlyList<string> UserAttributes = ["userName", "displayName", "externalId", "meta.created", "meta.lastModified", "id"];

    /// <summary>What groups can be sorted by.</summary>
    public static readonly IReadOnlyList<string> GroupAttributes = ["displayName", "externalId", "meta.created", "meta.lastModified", "id"];

    /// <summary>
    /// The sort a request asks for: null <see cref="ScimSortResult.Sort"/> when it names none (the default order), or an
    /// error for the caller to answer as 400 <c>invalidValue</c>. Names are case-insensitive and may carry the schema URN.
    /// </summary>
    public static ScimSortResult Parse(ScimResourceType type, string? sortBy, string? sortOrder)
    {
        bool descending;
        if (string.IsNullOrEmpty(sortOrder) || string.Equals(sortOrder, "ascending", StringComparison.OrdinalIgnoreCase))
        {
            descending = false;
        }
        else if (string.Equals(sortOrder, "descending", StringComparison.OrdinalIgnoreCase))
        {
            descending = true;
        }
        else
        {
            return new ScimSortResult(null, "sortOrder must be \"ascending\" or \"descending\"");
        }

        if (string.IsNullOrEmpty(sortBy))
        {
            return new ScimSortResult(null, null);
        }

        var supported = type == ScimSchemas.GroupType ? GroupAttributes : UserAttributes;
        try
        {
            var (path, filter, _) = ScimFilterParser.ParsePath(sortBy);
            if (filter is null)
            {
                var attribute = ScimFilterAttribute.Resolve(type, path);
                var name = supported.FirstOrDefault(s => string.Equals(s, attribute.ToString(), StringComparison.OrdinalIgnoreCase));
                if (name is not null)
                {
                    return new ScimSortResult(new ScimSort(name, descending), null);
                }
            }
        }
        catch (ScimFilterException)
        {
        }

        return new ScimSortResult(null, $"{type.Name} resources can be sorted by {string.Join(", ", supported)}");
    }

    internal static IOrderedQueryable<T> First<T, TKey>(IQueryable<T> query, Expression<Func<T, TKey>> key, bool descending) =>
        descending ? query.OrderByDescending(key) : query.OrderBy(key);

    internal static IOrderedQueryable<T> Then<T, TKey>(IOrderedQueryable<T> query, Expression<Func<T, TKey>> key, bool descending) =>
        descending ? query.ThenByDescending(key) : query.ThenBy(key);
}

/// <summary>What <see cref="ScimSort.Parse"/> found: a sort (null for the default order) or why the request is invalid.</summary>
public sealed record ScimSortResult(ScimSort? Sort, string? Error);
