using System.Text.Json.Nodes;

namespace Tessera.Directory;

/// <summary>Turns stored resources into what the SCIM service answers (RFC 7643 §4, §8): schemas, id, attributes, meta.</summary>
public static class ScimRender
{
    public static JsonObject User(ScimUser user, string baseUrl)
    {
        var record = user.Record;
        var document = ScimUsers.Stored(record);
        var resource = new JsonObject
        {
            ["schemas"] = new JsonArray([.. ScimSchemas.UserType.AllSchemas.Where(s => s == ScimSchemas.User || document[s.Id] is not null).Select(s => JsonValue.Create(s.Id))]),
            ["id"] = record.UserId.ToString(),
        };
        if (record.ExternalId is not null)
        {
            resource["externalId"] = record.ExternalId;
        }

        foreach (var (name, value) in document)
        {
            if (name != "externalId" && ScimSchemas.User.Attribute(name) is not null)
            {
                resource[name] = value?.DeepClone();
            }
        }

        if (user.Groups.Count > 0)
        {
            resource["groups"] = new JsonArray([.. user.Groups.Select(g => new JsonObject
            {
                ["value"] = g.Id.ToString(),
                ["$ref"] = $"{baseUrl}/Groups/{g.Id}",
                ["display"] = g.Display,
                ["type"] = "direct",
            })]);
        }

        foreach (var extension in ScimSchemas.UserType.Extensions)
        {
            if (document[extension.Id] is JsonObject members)
            {
                resource[extension.Id] = members.DeepClone();
            }
        }

        resource["meta"] = Meta("User", record.CreatedAt, record.UpdatedAt, $"{baseUrl}/Users/{record.UserId}", record.Version);
        return resource;
    }

    public static JsonObject Group(ScimGroup group, string baseUrl)
    {
        var record = group.Record;
        var resource = new JsonObject
        {
            ["schemas"] = new JsonArray(JsonValue.Create(ScimSchemas.GroupUrn)),
            ["id"] = record.Id.ToString(),
        };
        if (record.ExternalId is not null)
        {
            resource["externalId"] = record.ExternalId;
        }

        resource["displayName"] = record.DisplayName;
        if (group.Members is { Count: > 0 } members)
        {
            resource["members"] = new JsonArray([.. members.Select(m => new JsonObject
            {
                ["value"] = m.Id.ToString(),
                ["$ref"] = $"{baseUrl}/Users/{m.Id}",
                ["display"] = m.Display,
                ["type"] = "User",
            })]);
        }

        resource["meta"] = Meta("Group", record.CreatedAt, record.UpdatedAt, $"{baseUrl}/Groups/{record.Id}", record.Version);
        return resource;
    }

    public static JsonObject List(IEnumerable<JsonObject> resources, int totalResults, int startIndex)
    {
        var page = new JsonArray([.. resources]);
        return new JsonObject
        {
            ["schemas"] = new JsonArray(JsonValue.Create(ScimSchemas.ListResponseUrn)),
            ["totalResults"] = totalResults,
            ["startIndex"] = startIndex,
            ["itemsPerPage"] = page.Count,
            ["Resources"] = page,
        };
    }

    public static JsonObject Error(int status, string? scimType, string detail)
    {
        var error = new JsonObject
        {
            ["schemas"] = new JsonArray(JsonValue.Create(ScimSchemas.ErrorUrn)),
            ["status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (scimType is not null)
        {
            error["scimType"] = scimType;
        }

        error["detail"] = detail;
        return error;
    }

    private static JsonObject Meta(string resourceType, DateTime created, DateTime lastModified, string location, long version) => new()
    {
        ["resourceType"] = resourceType,
        ["created"] = ScimValueIndex.Time(created),
        ["lastModified"] = ScimValueIndex.Time(lastModified),
        ["location"] = location,
        ["version"] = ScimETag.Format(version),
    };
}
