using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Hosting;

namespace Tessera.Admin;

/// <summary>Request bodies, responses, and ETags of the Admin API.</summary>
public static class AdminJson
{
    public const string ContentType = "application/json";

    /// <summary>Members Tessera adds to a resource it returns; sent back (a GET, changed, PUT back) they are read only for <c>status</c>.</summary>
    public static readonly IReadOnlySet<string> MetadataMembers = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "source", "version", "status", "secrets", "problems", "organization",
    };

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32 };

    /// <summary>The body as a JSON object, read within the Admin API's body limit; anything else is the problem it is.</summary>
    public static async Task<JsonElement> ReadObjectAsync(HttpContext http)
    {
        if (!(http.Request.ContentType ?? "").Split(';')[0].Trim().Equals(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw new AdminProblem(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "Unsupported media type", "Send the body as application/json.");
        }

        var limit = http.RequestServices.GetRequiredService<RequestLimitOptions>().MaxBodyBytes.Admin;
        var body = await BoundedRequestBody.ReadAsync(http.Request, limit)
            ?? throw new AdminProblem(StatusCodes.Status413PayloadTooLarge, "body_too_large", "The body is too large", $"The Admin API reads bodies of at most {limit} bytes.");
        try
        {
            using var document = JsonDocument.Parse(body, DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw AdminProblem.BadRequest("The body must be a JSON object.");
            }

            RefuseDuplicateMembers(document.RootElement, "$");
            return document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw AdminProblem.BadRequest($"The body is not valid JSON (line {exception.LineNumber + 1}, position {exception.BytePositionInLine + 1}).");
        }
    }

    /// <summary>
    /// A member given twice is refused, not resolved: readers differ on which one wins, and the settings are
    /// case-insensitive, so <c>Id</c> and <c>id</c> are the same member.
    /// </summary>
    private static void RefuseDuplicateMembers(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                RefuseDuplicateMembers(item, $"{path}[{index++}]");
            }
        }
        else if (element.ValueKind == JsonValueKind.Object)
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var member in element.EnumerateObject())
            {
                if (!names.Add(member.Name))
                {
                    throw AdminProblem.BadRequest($"The member '{ConfigurationResources.Shorten(member.Name)}' is given more than once at {path}.");
                }

                RefuseDuplicateMembers(member.Value, $"{path}.{member.Name}");
            }
        }
    }

    /// <summary>The resource's settings from a body, checked as the file's are (unknown keys, types, no env: references).</summary>
    public static T Parse<T>(JsonElement body, params string[] refused) where T : class, new()
    {
        var settings = new JsonObject();
        var errors = new List<ConfigurationError>();
        foreach (var member in body.EnumerateObject())
        {
            if (refused.Contains(member.Name, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(new ConfigurationError($"$.{member.Name}", "is not set here (see the Admin API documentation for where it is managed)"));
            }
            else if (!MetadataMembers.Contains(member.Name))
            {
                settings[member.Name] = JsonNode.Parse(member.Value.GetRawText());
            }
        }

        using var document = JsonDocument.Parse(settings.ToJsonString());
        var (options, loadErrors) = ConfigurationLoader.LoadResource<T>(document.RootElement);
        errors.AddRange(loadErrors);
        return errors.Count == 0 ? options! : throw AdminProblem.Invalid(errors);
    }

    /// <summary>A string member of the body's metadata (<c>status</c>), if given.</summary>
    public static string? Metadata(JsonElement body, string name) =>
        body.EnumerateObject().FirstOrDefault(m => m.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { Value.ValueKind: JsonValueKind.String } member
            ? member.Value.GetString()
            : null;

    /// <summary>A resource as the Admin API shows it: its settings in the file's shape (secrets left out), and Tessera's own members.</summary>
    public static JsonObject Render(string kind, object options, ResourceView view)
    {
        var node = JsonSerializer.SerializeToNode(ManagedResourceCodec.Redacted(kind, options), options.GetType(), ManagedResourceCodec.Json)!.AsObject();
        foreach (var omitted in view.Omit)
        {
            // "Scim.Tokens": a member of a member.
            var parts = omitted.Split('.');
            var parent = node;
            foreach (var part in parts[..^1])
            {
                parent = parent?[part] as JsonObject;
            }

            parent?.Remove(parts[^1]);
        }

        if (view.OrganizationId is not null)
        {
            node["organization"] = view.OrganizationId;
        }

        node["source"] = view.Source;
        if (view.Version is { } version)
        {
            node["version"] = version;
        }

        if (view.Status is not null)
        {
            node["status"] = view.Status;
        }

        if (view.SecretsSet.Count > 0)
        {
            node["secrets"] = new JsonArray([.. view.SecretsSet.Select(s => JsonValue.Create(s))]);
        }

        if (view.ClientSecrets.Count > 0)
        {
            // Which secrets exist and until when, never their hashes.
            node["client_secrets"] = new JsonArray([.. view.ClientSecrets.Select(c => new JsonObject { ["id"] = c.Id, ["created_at"] = c.CreatedAt, ["expires_at"] = c.ExpiresAt })]);
        }

        if (view.Problems.Count > 0)
        {
            node["problems"] = new JsonArray([.. view.Problems.Select(p => new JsonObject { ["path"] = p.Path, ["reason"] = p.Reason })]);
        }

        return node;
    }

    /// <summary>The entity tag of a version: managed resources count their versions; a file's resource is tagged by its content.</summary>
    public static string ETag(ResourceView view, object options) => view.Version is { } version
        ? $"\"{version}\""
        : $"\"file-{Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(options, options.GetType(), ManagedResourceCodec.Json)))[..16]}\"";

    /// <summary>RFC 9110 §13.1.1: whether If-Match (absent, <c>*</c>, or a list of tags) lets a change to the resource with this tag go ahead.</summary>
    public static bool IfMatch(HttpRequest request, string? currentTag)
    {
        var header = request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return true;
        }

        var tags = header.SelectMany(h => (h ?? "").Split(',')).Select(t => t.Trim()).Where(t => t.Length > 0).ToList();
        return currentTag is not null && tags.Any(t => t == "*" || Strip(t) == Strip(currentTag));
    }

    private static string Strip(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;
}

/// <summary>How a resource is shown: where it comes from, its version and status, which of its secrets are set, and why it is not in force.</summary>
public sealed record ResourceView(string Source)
{
    public const string File = "file";
    public const string Managed = "managed";

    public string? OrganizationId { get; init; }
    public long? Version { get; init; }
    public string? Status { get; init; }
    public IReadOnlyList<string> SecretsSet { get; init; } = [];
    public IReadOnlyList<ConfigurationError> Problems { get; init; } = [];
    public IReadOnlyList<ClientSecretHash> ClientSecrets { get; init; } = [];
    public IReadOnlyList<string> Omit { get; init; } = [];
}
