using System.Text.Json.Nodes;

namespace Tessera.Directory;

/// <summary>
/// RFC 7644 §3.4.2.5 <c>attributes</c> and <c>excludedAttributes</c>: which attributes of a rendered resource are
/// sent. <c>schemas</c> and <c>id</c> (returned "always") are sent whatever is asked.
/// </summary>
public sealed class ScimProjection
{
    private readonly HashSet<string>? _included;
    private readonly HashSet<string> _excluded;

    private ScimProjection(HashSet<string>? included, HashSet<string> excluded)
    {
        _included = included;
        _excluded = excluded;
    }

    public static readonly ScimProjection All = new(null, []);

    /// <summary>Reads the two parameters; names are checked against the resource type, so a typo is an error, not silence.</summary>
    public static ScimProjection Parse(ScimResourceType type, string? attributes, string? excludedAttributes)
    {
        if (string.IsNullOrWhiteSpace(attributes) && string.IsNullOrWhiteSpace(excludedAttributes))
        {
            return All;
        }

        return new ScimProjection(
            string.IsNullOrWhiteSpace(attributes) ? null : Names(type, attributes, "attributes"),
            string.IsNullOrWhiteSpace(excludedAttributes) ? [] : Names(type, excludedAttributes, "excludedAttributes"));
    }

    private static HashSet<string> Names(ScimResourceType type, string list, string parameter)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (names.Count >= 100)
            {
                throw ScimException.InvalidValue($"'{parameter}' names too many attributes.");
            }

            names.Add(Canonical(type, raw) ?? throw ScimException.InvalidValue($"'{parameter}' names '{ScimDocument.Shorten(raw)}', which {type.Name} does not have."));
        }

        return names;
    }

    /// <summary>The canonical key of an attribute reference: "schema-urn:attribute" or "schema-urn:attribute.sub", lowercase.</summary>
    private static string? Canonical(ScimResourceType type, string reference)
    {
        var (schema, rest) = ScimDocument.Qualified(type, reference);
        var dot = rest.IndexOf('.');
        var name = dot < 0 ? rest : rest[..dot];
        var sub = dot < 0 ? null : rest[(dot + 1)..];
        if (schema is null && type.Schema.Attribute(name) is not null)
        {
            schema = type.Schema; // "emails.value": a core attribute with its sub-attribute
        }

        if (schema is null)
        {
            var common = ScimSchemas.Common.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
            if (common is null || (sub is not null && common.Sub(sub) is null))
            {
                return null;
            }

            return Key(null, common.Name, sub is null ? null : common.Sub(sub)!.Name);
        }

        var attribute = schema.Attribute(name);
        if (attribute is null || (sub is not null && attribute.Sub(sub) is null))
        {
            return null;
        }

        return Key(schema, attribute.Name, sub is null ? null : attribute.Sub(sub)!.Name);
    }

    private static string Key(ScimSchema? schema, string attribute, string? sub) =>
        ((schema is null ? "" : schema.Id + ":") + attribute + (sub is null ? "" : "." + sub)).ToLowerInvariant();

    /// <summary>Whether a core attribute is sent at all (so that an answer leaving it out need not load it).</summary>
    public bool Includes(ScimResourceType type, string attribute)
    {
        var key = Key(type.Schema, attribute, null);
        return !_excluded.Contains(key) && (_included is null || _included.Contains(key) || _included.Any(i => i.StartsWith(key + ".", StringComparison.Ordinal)));
    }

    /// <summary>Removes from a rendered resource what the request did not ask for.</summary>
    public JsonObject Apply(ScimResourceType type, JsonObject resource)
    {
        if (ReferenceEquals(this, All))
        {
            return resource;
        }

        foreach (var (name, value) in resource.ToList())
        {
            if (name is "schemas" or "id")
            {
                continue;
            }

            var extension = type.SchemaById(name);
            if (extension is not null && extension != type.Schema && value is JsonObject members)
            {
                Filter(members, extension);
                if (members.Count == 0)
                {
                    resource.Remove(name);
                }

                continue;
            }

            var schema = type.Schema.Attribute(name) is not null ? type.Schema : null;
            if (!Keep(name, value, schema))
            {
                resource.Remove(name);
            }
        }

        return resource;
    }

    private void Filter(JsonObject members, ScimSchema schema)
    {
        foreach (var (name, value) in members.ToList())
        {
            if (!Keep(name, value, schema))
            {
                members.Remove(name);
            }
        }
    }

    private bool Keep(string name, JsonNode? value, ScimSchema? schema)
    {
        var key = Key(schema, name, null);
        if (_excluded.Contains(key))
        {
            return false;
        }

        if (_included is null || _included.Contains(key))
        {
            return true;
        }

        // Only some sub-attributes asked for ("name.givenName", "emails.value"): keep those.
        var prefix = key + ".";
        var subs = _included.Where(i => i.StartsWith(prefix, StringComparison.Ordinal)).Select(i => i[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
        if (subs.Count == 0)
        {
            return false;
        }

        foreach (var item in value is JsonArray array ? array.OfType<JsonObject>() : value is JsonObject single ? [single] : [])
        {
            foreach (var (sub, _) in item.ToList())
            {
                if (!subs.Contains(sub.ToLowerInvariant()))
                {
                    item.Remove(sub);
                }
            }
        }

        return true;
    }
}
