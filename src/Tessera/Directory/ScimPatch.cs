using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Directory;

/// <summary>
/// Applies a PatchOp request (RFC 7644 §3.5.2) to a stored resource document, all operations or none. Besides the
/// RFC, it takes what Okta and Entra ID really send: operation names in any case (<c>"Replace"</c>), an operation
/// without <c>path</c> whose value object is keyed by attribute paths (<c>"name.givenName"</c>,
/// <c>"emails[type eq \"work\"].value"</c>, URN-qualified names), and add or replace through a value filter that
/// matches nothing yet, which creates the value the filter describes.
/// </summary>
public static class ScimPatch
{
    private enum Op
    {
        Add, Replace, Remove,
    }

    public static JsonObject Apply(ScimResourceType type, JsonObject document, JsonObject request)
    {
        if (Member(request, "schemas") is not JsonArray schemas
            || !schemas.Any(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String && string.Equals(v.GetValue<string>(), ScimSchemas.PatchOpUrn, StringComparison.OrdinalIgnoreCase)))
        {
            throw ScimException.InvalidSyntax("A PATCH request's schemas must be [\"" + ScimSchemas.PatchOpUrn + "\"].");
        }

        if (Member(request, "Operations") is not JsonArray operations || operations.Count == 0)
        {
            throw ScimException.InvalidSyntax("A PATCH request needs a non-empty \"Operations\" list.");
        }

        if (operations.Count > ScimLimits.MaxOperations)
        {
            throw ScimException.InvalidValue($"A PATCH request may carry at most {ScimLimits.MaxOperations} operations.");
        }

        var result = (JsonObject)document.DeepClone();
        foreach (var entry in operations)
        {
            if (entry is not JsonObject operation)
            {
                throw ScimException.InvalidSyntax("Each operation must be an object with \"op\", and \"path\" or \"value\".");
            }

            var op = (Member(operation, "op") as JsonValue)?.GetValueKind() == JsonValueKind.String
                ? Member(operation, "op")!.GetValue<string>().ToLowerInvariant()
                : null;
            var kind = op switch
            {
                "add" => Op.Add,
                "replace" => Op.Replace,
                "remove" => Op.Remove,
                _ => throw ScimException.InvalidSyntax($"\"op\" must be add, replace or remove, not {ScimDocument.Shorten(Member(operation, "op")?.ToJsonString() ?? "nothing")}."),
            };
            var pathNode = Member(operation, "path");
            if (pathNode is not null && (pathNode is not JsonValue p || p.GetValueKind() != JsonValueKind.String))
            {
                throw ScimException.InvalidPath("\"path\" must be a string.");
            }

            var path = pathNode?.GetValue<string>();
            var value = Member(operation, "value");
            if (string.IsNullOrWhiteSpace(path))
            {
                ApplyWithoutPath(type, result, kind, value);
            }
            else
            {
                ApplyPath(type, result, kind, path, value);
            }
        }

        return ScimDocument.Complete(type, result);
    }

    // RFC 7644 §3.5.2.1/3: without a path the value is an object of attributes to add or replace.
    private static void ApplyWithoutPath(ScimResourceType type, JsonObject document, Op kind, JsonNode? value)
    {
        if (kind == Op.Remove)
        {
            throw ScimException.NoTarget("A remove operation needs a \"path\" (RFC 7644 §3.5.2.2).");
        }

        if (value is not JsonObject members)
        {
            throw ScimException.InvalidValue("An operation without \"path\" needs an object \"value\".");
        }

        foreach (var (name, member) in members)
        {
            if (name.Equals("schemas", StringComparison.OrdinalIgnoreCase) || name.Equals("id", StringComparison.OrdinalIgnoreCase)
                || name.Equals("meta", StringComparison.OrdinalIgnoreCase))
            {
                // Okta repeats the id in a group rename; read-only members of the value change nothing.
                continue;
            }

            if (type.SchemaById(name) is { } extension && extension != type.Schema)
            {
                if (member is not JsonObject extensionMembers)
                {
                    throw ScimException.InvalidValue($"'{extension.Id}' must be an object.");
                }

                foreach (var (attribute, attributeValue) in extensionMembers)
                {
                    ApplyPath(type, document, kind, extension.Id + ":" + attribute, attributeValue);
                }

                continue;
            }

            ApplyPath(type, document, kind, name, member);
        }
    }

    private static void ApplyPath(ScimResourceType type, JsonObject document, Op kind, string path, JsonNode? value)
    {
        ScimAttributePath attributePath;
        ScimFilter? filter;
        string? subName;
        try
        {
            (attributePath, filter, subName) = ScimFilterParser.ParsePath(path);
        }
        catch (ScimFilterException exception)
        {
            throw ScimException.InvalidPath($"The path '{ScimDocument.Shorten(path)}' is not valid: {exception.Message}");
        }

        var (schema, attribute) = Resolve(type, attributePath);
        subName ??= attributePath.SubAttribute;
        var sub = subName is null ? null : attribute.Sub(subName)
            ?? throw ScimException.InvalidPath($"'{attribute.Name}' has no sub-attribute '{ScimDocument.Shorten(subName)}'.");
        if (attribute.Mutability == ScimMutability.ReadOnly || sub?.Mutability == ScimMutability.ReadOnly)
        {
            throw ScimException.Mutability($"'{ScimDocument.Shorten(path)}' is read-only.");
        }

        if (filter is not null)
        {
            if (!attribute.MultiValued || attribute.Type != ScimType.Complex)
            {
                throw ScimException.InvalidPath($"'{attribute.Name}' is not a multi-valued complex attribute; a value filter does not apply.");
            }

            ScimValueFilter.Check(attribute, filter);
        }

        var container = schema is null || schema == type.Schema
            ? document
            : document[schema.Id] as JsonObject ?? (JsonObject)(document[schema.Id] = new JsonObject());
        var label = ScimDocument.Shorten(path);

        if (kind == Op.Remove && sub is null && filter is null && value is null && attribute.Required)
        {
            throw ScimException.Mutability($"'{attribute.Name}' is required and cannot be removed.");
        }

        if (kind != Op.Remove && value is null)
        {
            throw ScimException.InvalidValue($"The {kind.ToString().ToLowerInvariant()} operation on '{label}' needs a value.");
        }

        if (filter is not null)
        {
            ApplyFiltered(container, attribute, filter, sub, kind, value, label);
        }
        else if (sub is not null)
        {
            ApplySub(container, attribute, sub, kind, value, label);
        }
        else
        {
            ApplyWhole(container, attribute, kind, value, label);
        }
    }

    private static (ScimSchema? Schema, ScimAttribute Attribute) Resolve(ScimResourceType type, ScimAttributePath path)
    {
        ScimSchema? schema = type.Schema;
        if (path.Schema is not null)
        {
            schema = type.SchemaById(path.Schema) ?? throw ScimException.InvalidPath($"'{ScimDocument.Shorten(path.Schema)}' is not a schema of {type.Name}.");
        }
        else if (string.Equals(path.Name, ScimSchemas.ExternalId.Name, StringComparison.OrdinalIgnoreCase))
        {
            return (null, ScimSchemas.ExternalId);
        }
        else if (string.Equals(path.Name, "id", StringComparison.OrdinalIgnoreCase) || string.Equals(path.Name, "meta", StringComparison.OrdinalIgnoreCase))
        {
            throw ScimException.Mutability($"'{path.Name}' is read-only.");
        }

        return (schema, schema.Attribute(path.Name) ?? throw ScimException.InvalidPath($"{type.Name} has no attribute '{ScimDocument.Shorten(path.ToString())}'."));
    }

    private static void ApplyWhole(JsonObject container, ScimAttribute attribute, Op kind, JsonNode? value, string label)
    {
        var current = container[attribute.Name];
        JsonNode? next;
        switch (kind)
        {
            case Op.Remove when attribute.MultiValued && value is not null && current is JsonArray existing:
                // Okta and Entra ID remove group members by value: "remove", path "members", value [{"value": id}].
                var unwanted = ScimDocument.Value(attribute, value, label) as JsonArray ?? [];
                next = new JsonArray([.. existing.Where(e => !unwanted.Any(u => SameValue(attribute, e, u))).Select(e => e!.DeepClone())]);
                break;
            case Op.Remove:
                next = null;
                break;
            case Op.Add when attribute.MultiValued:
                var added = ScimDocument.Value(attribute, value, label) as JsonArray ?? [];
                var merged = current is JsonArray before ? (JsonArray)before.DeepClone() : [];
                foreach (var item in added)
                {
                    if (!merged.Any(m => SameValue(attribute, m, item)))
                    {
                        if (item?["primary"] is JsonValue primary && primary.GetValue<bool>())
                        {
                            // RFC 7643 §2.4: a new primary value takes the flag from the old one.
                            foreach (var other in merged.OfType<JsonObject>())
                            {
                                other.Remove("primary");
                            }
                        }

                        merged.Add(item!.DeepClone());
                    }
                }

                next = merged;
                break;
            case Op.Add or Op.Replace when attribute.Type == ScimType.Complex && !attribute.MultiValued:
                // RFC 7644 §3.5.2.3: sub-attributes not named keep their values.
                var incoming = ScimDocument.Value(attribute, value, label) as JsonObject ?? [];
                var combined = current as JsonObject is { } old ? (JsonObject)old.DeepClone() : [];
                foreach (var (name, member) in incoming)
                {
                    combined[name] = member?.DeepClone();
                }

                next = combined;
                break;
            default:
                next = value;
                break;
        }

        Store(container, attribute, next, label);
    }

    private static void ApplySub(JsonObject container, ScimAttribute attribute, ScimAttribute sub, Op kind, JsonNode? value, string label)
    {
        var subValue = kind == Op.Remove ? null : ScimDocument.Value(sub, value, label);
        if (attribute.MultiValued)
        {
            // "emails.value" without a filter: every value of the attribute (and a first one when there is none).
            var items = container[attribute.Name] is JsonArray existing ? (JsonArray)existing.DeepClone() : [];
            if (items.Count == 0 && kind != Op.Remove)
            {
                items.Add(new JsonObject());
            }

            foreach (var item in items.OfType<JsonObject>())
            {
                SetMember(item, sub.Name, subValue);
            }

            Store(container, attribute, items, label);
            return;
        }

        var complex = container[attribute.Name] is JsonObject current ? (JsonObject)current.DeepClone() : [];
        SetMember(complex, sub.Name, subValue);
        Store(container, attribute, complex, label);
    }

    private static void ApplyFiltered(JsonObject container, ScimAttribute attribute, ScimFilter filter, ScimAttribute? sub, Op kind, JsonNode? value, string label)
    {
        var items = container[attribute.Name] is JsonArray existing ? (JsonArray)existing.DeepClone() : [];
        var matches = items.Where(item => ScimValueFilter.Matches(attribute, filter, item)).ToList();
        if (kind == Op.Remove)
        {
            // Removing what is not there leaves the resource as asked; IdPs repeat removals.
            foreach (var match in matches)
            {
                if (sub is null)
                {
                    items.Remove(match);
                }
                else
                {
                    ((JsonObject)match!).Remove(sub.Name);
                }
            }

            Store(container, attribute, items, label);
            return;
        }

        if (matches.Count == 0)
        {
            // Entra ID adds (or replaces) "emails[type eq \"work\"].value" on a user with no work email: the value
            // the filter describes is created, when the filter describes one (equalities joined by "and").
            var created = Describe(attribute, filter)
                ?? throw ScimException.NoTarget($"No value of '{attribute.Name}' matches '{label}'.");
            if (sub is null)
            {
                if (ScimDocument.Value(attribute, value, label) is JsonArray { Count: > 0 } given && given[0] is JsonObject fields)
                {
                    foreach (var (name, member) in fields)
                    {
                        created[name] = member?.DeepClone();
                    }
                }
            }
            else
            {
                SetMember(created, sub.Name, ScimDocument.Value(sub, value, label));
            }

            items.Add(created);
            Store(container, attribute, items, label);
            return;
        }

        foreach (var match in matches.OfType<JsonObject>())
        {
            if (sub is not null)
            {
                SetMember(match, sub.Name, ScimDocument.Value(sub, value, label));
                continue;
            }

            var replacement = ScimDocument.Value(attribute, value, label) is JsonArray { Count: > 0 } given && given[0] is JsonObject fields ? fields : [];
            if (kind == Op.Replace)
            {
                match.Clear();
            }

            foreach (var (name, member) in replacement)
            {
                match[name] = member?.DeepClone();
            }
        }

        Store(container, attribute, items, label);
    }

    /// <summary>The value a filter of equalities joined by "and" describes (<c>type eq "work"</c> → {"type":"work"}), or null.</summary>
    private static JsonObject? Describe(ScimAttribute attribute, ScimFilter filter)
    {
        var result = new JsonObject();
        return Collect(filter) ? result : null;

        bool Collect(ScimFilter node) => node switch
        {
            ScimFilter.Logical { IsAnd: true } and => Collect(and.Left) && Collect(and.Right),
            ScimFilter.Comparison { Operator: ScimOperator.Eq, Value: { } literal } comparison when attribute.Sub(comparison.Path.Name) is { } sub
                => Add(sub, literal),
            _ => false,
        };

        bool Add(ScimAttribute sub, ScimValue literal)
        {
            result[sub.Name] = literal.Kind switch
            {
                JsonValueKind.String => JsonValue.Create(literal.Text),
                JsonValueKind.True => JsonValue.Create(true),
                JsonValueKind.False => JsonValue.Create(false),
                _ => null,
            };
            return result[sub.Name] is not null;
        }
    }

    private static bool SameValue(ScimAttribute attribute, JsonNode? left, JsonNode? right)
    {
        if (attribute.Type == ScimType.Complex && left?["value"] is JsonValue a && right?["value"] is JsonValue b)
        {
            var sub = attribute.Sub("value")!;
            return string.Equals(ScimValueIndex.Key(sub, a.ToString()), ScimValueIndex.Key(sub, b.ToString()), StringComparison.Ordinal);
        }

        return JsonNode.DeepEquals(left, right);
    }

    private static void SetMember(JsonObject target, string name, JsonNode? value)
    {
        if (value is null)
        {
            target.Remove(name);
        }
        else
        {
            target[name] = value.DeepClone();
        }
    }

    private static void Store(JsonObject container, ScimAttribute attribute, JsonNode? value, string label)
    {
        var valid = ScimDocument.Value(attribute, value?.DeepClone(), label);
        if (valid is null)
        {
            container.Remove(attribute.Name);
        }
        else
        {
            container[attribute.Name] = valid;
        }
    }

    private static JsonNode? Member(JsonObject json, string name)
    {
        foreach (var (key, value) in json)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }
}
