using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// How a provisioned user's attributes are kept searchable: the attributes with columns of their own
/// (<see cref="Columns"/>) are filtered there; every other value becomes one <see cref="DirectoryUserValueRecord"/>,
/// its key normalized exactly as a filter's comparison value is (<see cref="Key"/>), so both sides compare alike.
/// </summary>
public static class ScimValueIndex
{
    /// <summary>User attributes stored as columns of <see cref="DirectoryUserRecord"/>, by lowercase path.</summary>
    public static readonly IReadOnlySet<string> Columns = new HashSet<string>(StringComparer.Ordinal)
    {
        "id", "username", "externalid", "displayname", "active", "meta.created", "meta.lastmodified",
    };

    /// <summary>The attribute name a value row carries: lowercase, with the schema URN for an extension's attribute.</summary>
    public static string AttributeName(ScimSchema schema, ScimAttribute attribute) =>
        schema.Id == ScimSchemas.UserUrn || schema.Id == ScimSchemas.GroupUrn
            ? attribute.Name.ToLowerInvariant()
            : (schema.Id + ":" + attribute.Name).ToLowerInvariant();

    /// <summary>
    /// The comparable form of a value: lowercase unless the attribute is case-exact (RFC 7643 §2.2), booleans as
    /// <c>true</c>/<c>false</c>, date-times as UTC ISO 8601 with seven fraction digits (so text order is time order).
    /// Null when the value is not of the attribute's type.
    /// </summary>
    public static string? Key(ScimAttribute attribute, string text) => attribute.Type switch
    {
        ScimType.Boolean => bool.TryParse(text, out var flag) ? (flag ? "true" : "false") : null,
        ScimType.DateTime => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? Time(time.UtcDateTime)
            : null,
        _ => attribute.CaseExact ? text : text.ToLowerInvariant(),
    };

    /// <summary>
    /// Now, to the microsecond: what PostgreSQL keeps of a timestamp, so that <c>meta.lastModified</c> and ETags read
    /// back exactly as they were answered.
    /// </summary>
    public static DateTime Timestamp(TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
    }

    public static string Time(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Whether a filter can compare this attribute (binary values are stored, not indexed).</summary>
    public static bool IsIndexed(ScimAttribute attribute) => attribute.Type is not (ScimType.Binary or ScimType.Complex);

    /// <summary>The value rows of a user document (as stored: attribute names spelled as in the schema).</summary>
    public static List<DirectoryUserValueRecord> Rows(Guid userId, JsonObject document)
    {
        var rows = new List<DirectoryUserValueRecord>();
        foreach (var schema in ScimSchemas.UserType.AllSchemas)
        {
            var container = schema == ScimSchemas.User ? document : document[schema.Id] as JsonObject;
            if (container is null)
            {
                continue;
            }

            foreach (var attribute in schema.Attributes)
            {
                var name = AttributeName(schema, attribute);
                if (schema == ScimSchemas.User && Columns.Contains(name) || container[attribute.Name] is not { } value)
                {
                    continue;
                }

                if (attribute.MultiValued && value is JsonArray array)
                {
                    for (var ordinal = 0; ordinal < array.Count; ordinal++)
                    {
                        AddValue(rows, userId, name, attribute, ordinal, array[ordinal]);
                    }
                }
                else
                {
                    AddValue(rows, userId, name, attribute, 0, value);
                }
            }
        }

        return rows;
    }

    private static void AddValue(List<DirectoryUserValueRecord> rows, Guid userId, string name, ScimAttribute attribute, int ordinal, JsonNode? value)
    {
        if (attribute.Type == ScimType.Complex && value is JsonObject complex)
        {
            foreach (var sub in attribute.SubAttributes)
            {
                if (IsIndexed(sub) && Text(complex[sub.Name]) is { } text && Key(sub, text) is { } key)
                {
                    rows.Add(new DirectoryUserValueRecord { UserId = userId, Attribute = name, SubAttribute = sub.Name.ToLowerInvariant(), Ordinal = ordinal, Key = key });
                }
            }
        }
        else if (IsIndexed(attribute) && Text(value) is { } text && Key(attribute, text) is { } key)
        {
            rows.Add(new DirectoryUserValueRecord { UserId = userId, Attribute = name, SubAttribute = "", Ordinal = ordinal, Key = key });
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue value
        ? value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        }
        : null;
}
