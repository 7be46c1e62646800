using System.Text.Json.Nodes;

namespace Tessera.Directory;

/// <summary>
/// RFC 7644 §4: what the service supports, said from the same definitions that validate requests, so the
/// description and the behaviour cannot drift apart.
/// </summary>
public static class ScimDiscovery
{
    public static JsonObject ServiceProviderConfig(string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(JsonValue.Create(ScimSchemas.ServiceProviderConfigUrn)),
        ["patch"] = new JsonObject { ["supported"] = true },
        ["bulk"] = new JsonObject { ["supported"] = false, ["maxOperations"] = 0, ["maxPayloadSize"] = 0 },
        ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = ScimLimits.MaxResults },
        ["changePassword"] = new JsonObject { ["supported"] = false },
        ["sort"] = new JsonObject { ["supported"] = true },
        ["etag"] = new JsonObject { ["supported"] = true },
        ["authenticationSchemes"] = new JsonArray(new JsonObject
        {
            ["type"] = "oauthbearertoken",
            ["name"] = "Bearer token",
            ["description"] = "A SCIM token of this organization, from its configuration (Scim.Tokens) or 'tessera scim token create'.",
            ["primary"] = true,
        }),
        ["meta"] = new JsonObject
        {
            ["resourceType"] = "ServiceProviderConfig",
            ["location"] = baseUrl + "/ServiceProviderConfig",
        },
    };

    public static JsonObject ResourceType(ScimResourceType type, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(JsonValue.Create(ScimSchemas.ResourceTypeUrn)),
        ["id"] = type.Name,
        ["name"] = type.Name,
        ["endpoint"] = type.Endpoint,
        ["description"] = type.Description,
        ["schema"] = type.Schema.Id,
        ["schemaExtensions"] = new JsonArray([.. type.Extensions.Select(e => new JsonObject { ["schema"] = e.Id, ["required"] = false })]),
        ["meta"] = new JsonObject { ["resourceType"] = "ResourceType", ["location"] = $"{baseUrl}/ResourceTypes/{type.Name}" },
    };

    public static JsonObject Schema(ScimSchema schema, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(JsonValue.Create(ScimSchemas.SchemaUrn)),
        ["id"] = schema.Id,
        ["name"] = schema.Name,
        ["description"] = schema.Description,
        ["attributes"] = new JsonArray([.. schema.Attributes.Select(Attribute)]),
        ["meta"] = new JsonObject { ["resourceType"] = "Schema", ["location"] = $"{baseUrl}/Schemas/{schema.Id}" },
    };

    private static JsonObject Attribute(ScimAttribute attribute)
    {
        var result = new JsonObject
        {
            ["name"] = attribute.Name,
            ["type"] = attribute.Type switch
            {
                ScimType.DateTime => "dateTime",
                _ => attribute.Type.ToString().ToLowerInvariant(),
            },
            ["multiValued"] = attribute.MultiValued,
            ["description"] = attribute.Description,
            ["required"] = attribute.Required,
            ["caseExact"] = attribute.CaseExact,
            ["mutability"] = Camel(attribute.Mutability.ToString()),
            ["returned"] = Camel(attribute.Returned.ToString()),
            ["uniqueness"] = Camel(attribute.Uniqueness.ToString()),
        };
        if (attribute.CanonicalValues.Count > 0)
        {
            result["canonicalValues"] = new JsonArray([.. attribute.CanonicalValues.Select(v => JsonValue.Create(v))]);
        }

        if (attribute.ReferenceTypes.Count > 0)
        {
            result["referenceTypes"] = new JsonArray([.. attribute.ReferenceTypes.Select(v => JsonValue.Create(v))]);
        }

        if (attribute.SubAttributes.Count > 0)
        {
            result["subAttributes"] = new JsonArray([.. attribute.SubAttributes.Select(Attribute)]);
        }

        return result;
    }

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}
