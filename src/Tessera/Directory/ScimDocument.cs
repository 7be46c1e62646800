using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Directory;

/// <summary>
/// Reads a resource a SCIM client sent into the form Tessera stores: attribute names spelled as the schema spells
/// them, extension attributes under their schema's URN, values checked against their type and bounded in size.
/// Read-only attributes (<c>id</c>, <c>meta</c>, <c>groups</c>) are ignored, as RFC 7643 §7 allows; attributes no
/// schema defines are ignored too, but a schema URN the resource type does not carry is refused (save the few that
/// clients list without attributes, <see cref="ScimSchemas.IgnoredUrns"/>).
/// </summary>
public static class ScimDocument
{
    /// <summary>The stored form of a whole resource (POST, PUT).</summary>
    public static JsonObject Normalize(ScimResourceType type, JsonObject input)
    {
        if (input["schemas"] is not JsonArray schemas || schemas.Count == 0)
        {
            throw ScimException.InvalidSyntax("The resource must list its schemas, including " + type.Schema.Id + ".");
        }

        var declared = new List<ScimSchema>();
        foreach (var entry in schemas)
        {
            var urn = entry is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
            if (urn is not null && ScimSchemas.IgnoredUrns.Contains(urn))
            {
                continue;
            }

            var schema = urn is null ? null : type.SchemaById(urn);
            if (schema is null)
            {
                throw ScimException.InvalidSyntax($"The schema '{Shorten(urn ?? entry?.ToJsonString() ?? "null")}' is not one a {type.Name} carries here.");
            }

            declared.Add(schema);
        }

        if (!declared.Contains(type.Schema))
        {
            throw ScimException.InvalidSyntax("The resource's schemas must include " + type.Schema.Id + ".");
        }

        var document = new JsonObject();
        foreach (var (name, value) in input)
        {
            if (string.Equals(name, "schemas", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            Set(type, document, name, value, declared);
        }

        return Complete(type, document);
    }

    /// <summary>Checks what every stored resource must have, once all changes are applied.</summary>
    public static JsonObject Complete(ScimResourceType type, JsonObject document)
    {
        foreach (var attribute in type.Schema.Attributes.Where(a => a.Required))
        {
            if (document[attribute.Name] is null)
            {
                throw ScimException.InvalidValue($"'{attribute.Name}' is required.");
            }
        }

        foreach (var extension in type.Extensions)
        {
            if (document[extension.Id] is JsonObject { Count: 0 })
            {
                document.Remove(extension.Id);
            }
        }

        return document;
    }

    /// <summary>
    /// Sets one top-level member of a resource: a core attribute, <c>externalId</c>, an extension's object, or an
    /// attribute named with its schema URN (<c>urn:…:enterprise:2.0:User:department</c>).
    /// </summary>
    private static void Set(ScimResourceType type, JsonObject document, string name, JsonNode? value, IReadOnlyList<ScimSchema> declared)
    {
        if (type.SchemaById(name) is { } extension && extension != type.Schema)
        {
            if (!declared.Contains(extension))
            {
                throw ScimException.InvalidSyntax($"The resource carries {extension.Id} attributes but does not list that schema.");
            }

            if (value is not JsonObject members)
            {
                throw ScimException.InvalidValue($"'{extension.Id}' must be an object.");
            }

            var target = document[extension.Id] as JsonObject ?? new JsonObject();
            foreach (var (member, memberValue) in members)
            {
                if (extension.Attribute(member) is { } attribute)
                {
                    Assign(target, attribute, Value(attribute, memberValue, extension.Id + ":" + member));
                }
            }

            document[extension.Id] = target;
            return;
        }

        var (schema, attributeName) = Qualified(type, name);
        if (schema is null)
        {
            if (string.Equals(attributeName, ScimSchemas.ExternalId.Name, StringComparison.OrdinalIgnoreCase))
            {
                Assign(document, ScimSchemas.ExternalId, Value(ScimSchemas.ExternalId, value, "externalId"));
            }

            return;
        }

        if (schema.Attribute(attributeName) is not { } known || known.Mutability == ScimMutability.ReadOnly)
        {
            return;
        }

        if (schema == type.Schema)
        {
            Assign(document, known, Value(known, value, known.Name));
        }
        else
        {
            var target = document[schema.Id] as JsonObject ?? new JsonObject();
            Assign(target, known, Value(known, value, schema.Id + ":" + known.Name));
            document[schema.Id] = target;
        }
    }

    /// <summary>
    /// The schema and attribute a top-level name refers to: a core attribute by its plain name, or any attribute
    /// by its URN-qualified name. Null schema for the common attributes and for names no schema defines.
    /// </summary>
    public static (ScimSchema? Schema, string Attribute) Qualified(ScimResourceType type, string name)
    {
        foreach (var schema in type.AllSchemas)
        {
            if (name.Length > schema.Id.Length + 1 && name.StartsWith(schema.Id + ":", StringComparison.OrdinalIgnoreCase))
            {
                return (schema, name[(schema.Id.Length + 1)..]);
            }
        }

        return type.Schema.Attribute(name) is not null ? (type.Schema, name) : (null, name);
    }

    private static void Assign(JsonObject target, ScimAttribute attribute, JsonNode? value)
    {
        if (value is null)
        {
            target.Remove(attribute.Name);
        }
        else
        {
            target[attribute.Name] = value;
        }
    }

    /// <summary>A value checked against its attribute's definition; null means "no value" (absent, null, or empty).</summary>
    public static JsonNode? Value(ScimAttribute attribute, JsonNode? input, string path)
    {
        if (input is null)
        {
            return null;
        }

        if (attribute.MultiValued)
        {
            // A lone value where a list is expected is taken as a list of one, as several IdPs send it.
            var items = input as JsonArray ?? [input.DeepClone()];
            var limit = attribute == ScimSchemas.Group.Attribute("members") ? ScimLimits.MaxMembers : ScimLimits.MaxValues;
            if (items.Count > limit)
            {
                throw ScimException.InvalidValue($"'{path}' has more than {limit} values.");
            }

            var result = new JsonArray();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in items)
            {
                if (Single(attribute, item, path) is { } single && seen.Add(single.ToJsonString()))
                {
                    result.Add(single);
                }
            }

            if (attribute.Type == ScimType.Complex && result.Count(v => v?["primary"] is JsonValue p && p.GetValue<bool>()) > 1)
            {
                throw ScimException.InvalidValue($"At most one of '{path}' may be primary (RFC 7643 §2.4).");
            }

            return result.Count == 0 ? null : result;
        }

        if (input is JsonArray)
        {
            throw ScimException.InvalidValue($"'{path}' takes one value, not a list.");
        }

        return Single(attribute, input, path);
    }

    private static JsonNode? Single(ScimAttribute attribute, JsonNode? input, string path)
    {
        if (input is null)
        {
            return null;
        }

        if (attribute.Type == ScimType.Complex)
        {
            if (!attribute.MultiValued && input is JsonValue lone && lone.GetValueKind() == JsonValueKind.String && attribute.Sub("value") is not null)
            {
                // Entra ID sends the enterprise manager as the manager's id alone ("manager": "id"), not {"value": "id"}.
                input = new JsonObject { ["value"] = lone.GetValue<string>() };
            }

            if (input is not JsonObject members)
            {
                throw ScimException.InvalidValue($"'{path}' must be an object with sub-attributes.");
            }

            var result = new JsonObject();
            foreach (var (name, value) in members)
            {
                if (attribute.Sub(name) is { Mutability: not ScimMutability.ReadOnly } sub && Single(sub, value, path + "." + sub.Name) is { } single)
                {
                    result[sub.Name] = single;
                }
            }

            return result.Count == 0 ? null : result;
        }

        if (input is not JsonValue scalar)
        {
            throw ScimException.InvalidValue($"'{path}' must be a {Describe(attribute.Type)}.");
        }

        var kind = scalar.GetValueKind();
        switch (attribute.Type)
        {
            case ScimType.Boolean:
                if (kind is JsonValueKind.True or JsonValueKind.False)
                {
                    return JsonValue.Create(kind == JsonValueKind.True);
                }

                // Entra ID sends booleans as strings ("False").
                if (kind == JsonValueKind.String && bool.TryParse(scalar.GetValue<string>(), out var flag))
                {
                    return JsonValue.Create(flag);
                }

                throw ScimException.InvalidValue($"'{path}' must be true or false.");

            case ScimType.DateTime:
                if (kind == JsonValueKind.String
                    && DateTimeOffset.TryParse(scalar.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
                {
                    return JsonValue.Create(time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
                }

                throw ScimException.InvalidValue($"'{path}' must be an xsd:dateTime.");

            default:
                if (kind != JsonValueKind.String)
                {
                    throw ScimException.InvalidValue($"'{path}' must be a string.");
                }

                var text = scalar.GetValue<string>();
                var limit = attribute.Type == ScimType.Binary ? ScimLimits.MaxBinaryLength : ScimLimits.MaxStringLength;
                if (text.Length > limit)
                {
                    throw ScimException.InvalidValue($"'{path}' is longer than {limit} characters.");
                }

                if (attribute.Type == ScimType.Binary && !IsBase64(text))
                {
                    throw ScimException.InvalidValue($"'{path}' must be base64.");
                }

                return text.Length == 0 ? null : JsonValue.Create(text);
        }
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    private static string Describe(ScimType type) => type switch
    {
        ScimType.Boolean => "boolean",
        ScimType.DateTime => "date-time string",
        _ => "string",
    };

    internal static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";
}
