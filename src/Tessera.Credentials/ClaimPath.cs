using System.Text;
using System.Text.Json.Nodes;

namespace Tessera.Credentials;

/// <summary>
/// A path to a claim in a credential's claim set, in the shape of a claims path pointer (OpenID4VP 1.0 §7): each
/// segment is a claim name, an array index, or "every element of the array". The same paths say which claims an issuer
/// makes selectively disclosable, which a holder presents, and which a DCQL query asks for.
/// </summary>
public sealed class ClaimPath : IEquatable<ClaimPath>
{
    private readonly ClaimPathSegment[] segments;

    public ClaimPath(IEnumerable<ClaimPathSegment> segments)
    {
        this.segments = [.. segments];
    }

    public IReadOnlyList<ClaimPathSegment> Segments => segments;

    public static ClaimPath Root { get; } = new([]);

    /// <summary>A path of names and indices: <c>ClaimPath.Of("age_equal_or_over", "21")</c>, <c>ClaimPath.Of("nationalities", 0)</c>; null stands for every element.</summary>
    public static ClaimPath Of(params object?[] segments) => new(segments.Select(ClaimPathSegment.From));

    /// <summary>Reads a JSON array of strings, non-negative integers and nulls; null when the array is not one.</summary>
    public static ClaimPath? FromJson(JsonNode? node)
    {
        if (node is not JsonArray array || array.Count == 0)
        {
            return null;
        }

        var result = new List<ClaimPathSegment>(array.Count);
        foreach (var item in array)
        {
            switch (item)
            {
                case null:
                    result.Add(ClaimPathSegment.AllElements);
                    break;
                case JsonValue value when value.TryGetValue<string>(out var name):
                    result.Add(ClaimPathSegment.Name(name));
                    break;
                case JsonValue value when value.TryGetValue<int>(out var index) && index >= 0:
                    result.Add(ClaimPathSegment.Index(index));
                    break;
                default:
                    return null;
            }
        }

        return new ClaimPath(result);
    }

    public ClaimPath Append(ClaimPathSegment segment) => new([.. segments, segment]);

    /// <summary>True when this path is <paramref name="other"/> or leads to it (a prefix of it). Concrete paths only.</summary>
    public bool IsPrefixOf(ClaimPath other) =>
        segments.Length <= other.segments.Length && segments.AsSpan().SequenceEqual(other.segments.AsSpan(0, segments.Length));

    public bool Equals(ClaimPath? other) => other is not null && segments.AsSpan().SequenceEqual(other.segments);

    public override bool Equals(object? obj) => Equals(obj as ClaimPath);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var segment in segments)
        {
            hash.Add(segment);
        }

        return hash.ToHashCode();
    }

    /// <summary>The JSON form, as DCQL writes it: <c>["age_equal_or_over","21"]</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("[");
        for (var i = 0; i < segments.Length; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(segments[i]);
        }

        return text.Append(']').ToString();
    }
}

/// <summary>One step of a <see cref="ClaimPath"/>: a claim name, an array index, or every element of an array.</summary>
public readonly record struct ClaimPathSegment
{
    private ClaimPathSegment(string? claimName, int? arrayIndex)
    {
        ClaimName = claimName;
        ArrayIndex = arrayIndex;
    }

    public string? ClaimName { get; }

    public int? ArrayIndex { get; }

    public bool IsAllElements => ClaimName is null && ArrayIndex is null;

    public static ClaimPathSegment AllElements { get; } = new(null, null);

    public static ClaimPathSegment Name(string name) => new(name, null);

    public static ClaimPathSegment Index(int index) =>
        index >= 0 ? new(null, index) : throw new ArgumentOutOfRangeException(nameof(index), "An array index is never negative.");

    internal static ClaimPathSegment From(object? value) => value switch
    {
        null => AllElements,
        string name => Name(name),
        int index => Index(index),
        _ => throw new ArgumentException("A path segment is a string, a non-negative integer or null.", nameof(value)),
    };

    public override string ToString() => ClaimName is not null
        ? JsonValue.Create(ClaimName).ToJsonString()
        : ArrayIndex?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null";
}
