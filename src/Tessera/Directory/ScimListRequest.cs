using System.Globalization;

namespace Tessera.Directory;

/// <summary>The query parameters of a list request (RFC 7644 §3.4.2): filter, sorting, paging and projection.</summary>
public sealed record ScimListRequest(ScimFilter? Filter, ScimSort? Sort, int StartIndex, int Count, ScimProjection Projection)
{
    public const int DefaultCount = 100;

    public static ScimListRequest From(IQueryCollection query, ScimResourceType type)
    {
        var filterText = query["filter"].ToString();
        var filter = string.IsNullOrWhiteSpace(filterText) ? null : ScimFilterParser.Parse(filterText);

        // RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1; a negative count as 0; more than the maximum is cut to it.
        var startIndex = Math.Max(1, Integer(query, "startIndex") ?? 1);
        var count = Math.Clamp(Integer(query, "count") ?? DefaultCount, 0, ScimLimits.MaxResults);

        var sort = ScimSort.Parse(type, query["sortBy"].ToString(), query["sortOrder"].ToString());
        if (sort.Error is not null)
        {
            throw ScimException.InvalidValue(sort.Error + ".");
        }

        return new ScimListRequest(filter, sort.Sort, startIndex, count, ScimProjection.Parse(type, query["attributes"], query["excludedAttributes"]));
    }

    private static int? Integer(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ScimException.InvalidValue($"{name} must be an integer.");
    }
}
