using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tessera.Hosting;

namespace Tessera.Tests.Infrastructure;

/// <summary>A SCIM answer: status, headers that matter, and the JSON body.</summary>
public sealed record ScimResponse(int Status, JsonNode? Json, string? ETag, string? Location, string? ContentType)
{
    public string? ScimType => Json?["scimType"]?.GetValue<string>();

    public string Id => Json!["id"]!.GetValue<string>();

    public override string ToString() => $"{Status} {Json?.ToJsonString()}";
}

/// <summary>A provisioning client (an IdP's SCIM connector) talking to one organization's SCIM service.</summary>
public sealed class ScimClient(HttpClient http, string organization, string? token)
{
    public const string StMarysToken = "stmarys-scim-token-0123456789abcdef0123";
    public const string NorthwindToken = "northwind-scim-token-0123456789abcdef012";

    public string Base => $"scim/v2/{organization}";

    /// <summary>St Mary's (with a SCIM token) and a second organization with its own token.</summary>
    public static void Configure(TesseraOptions options, Action<ScimOptions>? stMarys = null)
    {
        var existing = options.Organizations.FirstOrDefault(o => o.Id == TestConfiguration.Organization);
        if (existing is null)
        {
            existing = new OrganizationOptions { Id = TestConfiguration.Organization, Domains = ["stmarys.example"] };
            options.Organizations.Add(existing);
        }

        existing.Scim.Tokens.Add(StMarysToken);
        stMarys?.Invoke(existing.Scim);
        options.Organizations.Add(new OrganizationOptions { Id = "northwind", Domains = ["northwind.example"], Scim = new ScimOptions { Tokens = [NorthwindToken] } });
    }

    public Task<ScimResponse> GetAsync(string path, IDictionary<string, string>? headers = null) => SendAsync(HttpMethod.Get, path, null, headers);

    public Task<ScimResponse> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, body);

    public Task<ScimResponse> PutAsync(string path, object body, string? ifMatch = null) =>
        SendAsync(HttpMethod.Put, path, body, ifMatch is null ? null : new Dictionary<string, string> { ["If-Match"] = ifMatch });

    public Task<ScimResponse> PatchAsync(string path, object body, string? ifMatch = null) =>
        SendAsync(HttpMethod.Patch, path, body, ifMatch is null ? null : new Dictionary<string, string> { ["If-Match"] = ifMatch });

    public Task<ScimResponse> DeleteAsync(string path, string? ifMatch = null) =>
        SendAsync(HttpMethod.Delete, path, null, ifMatch is null ? null : new Dictionary<string, string> { ["If-Match"] = ifMatch });

    /// <param name="body">A string is sent as it is (raw JSON, or deliberately broken); anything else is serialized.</param>
    public async Task<ScimResponse> SendAsync(HttpMethod method, string path, object? body, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path.StartsWith('/') ? path[1..] : $"{Base}/{path}");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (body is not null)
        {
            var text = body as string ?? System.Text.Json.JsonSerializer.Serialize(body);
            request.Content = new StringContent(text, Encoding.UTF8, "application/scim+json");
        }

        using var response = await http.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (content.Length > 0)
        {
            try
            {
                json = JsonNode.Parse(content);
            }
            catch (System.Text.Json.JsonException)
            {
                json = JsonValue.Create(content);
            }
        }

        return new ScimResponse((int)response.StatusCode, json, response.Headers.ETag?.ToString(), response.Headers.Location?.ToString(),
            response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>A core User as Okta or Entra ID would first send it.</summary>
    public static JsonObject User(string userName, string? externalId = null, string? givenName = "Alice", string? familyName = "Adams", bool active = true) => new()
    {
        ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"),
        ["userName"] = userName,
        ["externalId"] = externalId,
        ["name"] = new JsonObject { ["givenName"] = givenName, ["familyName"] = familyName },
        ["emails"] = new JsonArray(new JsonObject { ["value"] = userName, ["type"] = "work", ["primary"] = true }),
        ["active"] = active,
    };

    public static JsonObject Patch(params JsonObject[] operations) => new()
    {
        ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
        ["Operations"] = new JsonArray([.. operations]),
    };

    public static JsonObject Op(string op, string? path, JsonNode? value)
    {
        var operation = new JsonObject { ["op"] = op };
        if (path is not null)
        {
            operation["path"] = path;
        }

        if (value is not null)
        {
            operation["value"] = value;
        }

        return operation;
    }
}
