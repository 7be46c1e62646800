using System.Text.Json.Nodes;

namespace Tessera.Credentials;

/// <summary>A claim a path selected: where it is (every segment concrete) and its value.</summary>
public sealed record ResolvedClaim(ClaimPath Path, JsonNode? Value);

/// <summary>
/// Selects claims by path (OpenID4VP 1.0 §7.2.1): a name selects that member of each selected object, an index that
/// element of each selected array, null every element; selecting a member of a non-object or an element of a
/// non-array selects nothing.
/// </summary>
public static class ClaimPathResolver
{
    public static IReadOnlyList<ResolvedClaim> Resolve(JsonNode? root, ClaimPath path)
    {
        IEnumerable<ResolvedClaim> selected = [new ResolvedClaim(ClaimPath.Root, root)];
        foreach (var segment in path.Segments)
        {
            selected = selected.SelectMany(claim => Step(claim, segment)).ToList();
        }

        return path.Segments.Count == 0 ? [] : selected.ToList();
    }

    private static IEnumerable<ResolvedClaim> Step(ResolvedClaim claim, ClaimPathSegment segment)
    {
        if (segment.ClaimName is { } name)
        {
            if (claim.Value is JsonObject obj && obj.TryGetPropertyValue(name, out var member))
            {
                yield return new ResolvedClaim(claim.Path.Append(segment), member);
            }

            yield break;
        }

        if (claim.Value is not JsonArray array)
        {
            yield break;
        }

        if (segment.ArrayIndex is { } index)
        {
            if (index < array.Count)
            {
                yield return new ResolvedClaim(claim.Path.Append(segment), array[index]);
            }

            yield break;
        }

        for (var i = 0; i < array.Count; i++)
        {
            yield return new ResolvedClaim(claim.Path.Append(ClaimPathSegment.Index(i)), array[i]);
        }
    }
}
