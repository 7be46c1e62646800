using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Directory;

/// <summary>
/// Decides whether one value of a multi-valued complex attribute matches a PATCH path's value filter
/// (<c>emails[type eq "work"]</c>, <c>members[value eq "…"]</c>), with the same case rules as list filters.
/// </summary>
public static class ScimValueFilter
{
    /// <summary>Refuses a filter naming a sub-attribute the attribute does not have, before anything changes.</summary>
    public static void Check(ScimAttribute attribute, ScimFilter filter)
    {
        switch (filter)
        {
            case ScimFilter.Comparison comparison:
                if (comparison.Path.SubAttribute is not null || comparison.Path.Schema is not null || attribute.Sub(comparison.Path.Name) is null)
                {
                    throw ScimException.InvalidPath($"'{comparison.Path}' is not a sub-attribute of '{attribute.Name}'.");
                }

                break;
            case ScimFilter.Logical logical:
                Check(attribute, logical.Left);
                Check(attribute, logical.Right);
                break;
            case ScimFilter.Not not:
                Check(attribute, not.Inner);
                break;
            default:
                throw ScimException.InvalidPath("A value filter cannot nest another value filter.");
        }
    }

    public static bool Matches(ScimAttribute attribute, ScimFilter filter, JsonNode? value) => filter switch
    {
        ScimFilter.Comparison comparison => Compare(attribute.Sub(comparison.Path.Name)!, comparison, value?[attribute.Sub(comparison.Path.Name)!.Name]),
        ScimFilter.Logical { IsAnd: true } and => Matches(attribute, and.Left, value) && Matches(attribute, and.Right, value),
        ScimFilter.Logical or => Matches(attribute, or.Left, value) || Matches(attribute, or.Right, value),
        ScimFilter.Not not => !Matches(attribute, not.Inner, value),
        _ => false,
    };

    private static bool Compare(ScimAttribute sub, ScimFilter.Comparison comparison, JsonNode? actual)
    {
        var text = actual is JsonValue value ? Text(value) : null;
        if (comparison.Operator == ScimOperator.Pr)
        {
            return !string.IsNullOrEmpty(text);
        }

        var expected = comparison.Value is { Kind: not JsonValueKind.Null } literal ? Literal(literal) : null;
        if (text is null || expected is null)
        {
            // RFC 7644 §3.4.2.2: a missing value equals nothing; "ne" holds for it.
            return comparison.Operator == ScimOperator.Ne && (text is null) != (expected is null);
        }

        var left = ScimValueIndex.Key(sub, text);
        var right = ScimValueIndex.Key(sub, expected);
        if (left is null || right is null)
        {
            return comparison.Operator == ScimOperator.Ne;
        }

        var order = string.CompareOrdinal(left, right);
        return comparison.Operator switch
        {
            ScimOperator.Eq => order == 0,
            ScimOperator.Ne => order != 0,
            ScimOperator.Co => left.Contains(right, StringComparison.Ordinal),
            ScimOperator.Sw => left.StartsWith(right, StringComparison.Ordinal),
            ScimOperator.Ew => left.EndsWith(right, StringComparison.Ordinal),
            ScimOperator.Gt => order > 0,
            ScimOperator.Ge => order >= 0,
            ScimOperator.Lt => order < 0,
            ScimOperator.Le => order <= 0,
            _ => false,
        };
    }

    private static string? Text(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.ToJsonString(),
        _ => null,
    };

    private static string? Literal(ScimValue value) => value.Kind switch
    {
        JsonValueKind.String => value.Text,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.ToString(),
        _ => null,
    };
}
