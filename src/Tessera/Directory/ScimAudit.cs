using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Audit;

namespace Tessera.Directory;

/// <summary>
/// One audit row per SCIM change: which resource, what was done, and the changed attributes before and after.
/// SCIM resources hold no secrets (Tessera stores no passwords), so values are recorded, shortened. The row is staged
/// in the change's own unit of work (<see cref="AuditLog.Stage"/>): saved and committed with it, or not at all.
/// </summary>
public sealed class ScimAudit(AuditLog audit)
{
    private const int MaxAttributes = 50;
    private const int MaxValueLength = 200;

    public void Changed(Storage.TesseraDbContext db, AuditEvent context, string organizationId, string resourceType, string action, Guid id, JsonObject? before, JsonObject? after,
        IReadOnlyDictionary<string, string?>? extra = null)
    {
        var old = Flatten(before);
        var now = Flatten(after);
        var changed = old.Keys.Union(now.Keys, StringComparer.Ordinal)
            .Where(k => old.GetValueOrDefault(k) != now.GetValueOrDefault(k))
            .Order(StringComparer.Ordinal)
            .Take(MaxAttributes)
            .ToList();
        var detail = new Dictionary<string, string?>
        {
            ["resource"] = resourceType,
            ["id"] = id.ToString(),
            ["changed"] = string.Join(',', changed),
            ["before"] = Json(changed, old),
            ["after"] = Json(changed, now),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            detail[key] = value;
        }

        audit.Stage(db, context with
        {
            Event = $"scim.{resourceType.ToLowerInvariant()}.{action}",
            Outcome = AuditEvent.Success,
            OrganizationId = organizationId,
            UserId = resourceType == "User" ? id.ToString() : context.UserId,
            Detail = detail,
        });
    }

    private static string? Json(List<string> keys, Dictionary<string, string> values)
    {
        var present = keys.Where(values.ContainsKey).ToDictionary(k => k, k => values[k], StringComparer.Ordinal);
        return present.Count == 0 ? null : JsonSerializer.Serialize(present);
    }

    /// <summary>Attribute paths to values: <c>name.givenName</c>, <c>emails[0].value</c>.</summary>
    private static Dictionary<string, string> Flatten(JsonObject? document)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (document is not null)
        {
            Walk(document, "", result);
        }

        return result;
    }

    private static void Walk(JsonNode? node, string path, Dictionary<string, string> result)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    Walk(value, path.Length == 0 ? name : path + "." + name, result);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], $"{path}[{i}]", result);
                }

                break;
            case JsonValue value:
                var text = value.ToString();
                result[path] = text.Length <= MaxValueLength ? text : text[..MaxValueLength] + "…";
                break;
        }
    }
}
