using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tessera.Hosting;
using Tessera.Protocol;

namespace Tessera.Tests.Infrastructure;

/// <summary>An Admin API answer: status, body (JSON or a problem detail), headers.</summary>
public sealed record AdminResponse(int Status, JsonNode? Json, HttpResponseMessage Message)
{
    public JsonObject Body => Json?.AsObject() ?? throw new InvalidOperationException($"no JSON body (status {Status})");

    public string? ContentType => Message.Content.Headers.ContentType?.MediaType;

    public string? ETag => Message.Headers.ETag?.ToString();

    public string? Authenticate => Message.Headers.WwwAuthenticate.ToString();

    public string? Code => Json is JsonObject o && o["code"] is { } code ? code.GetValue<string>() : null;

    public IEnumerable<string> ErrorPaths => Json?["errors"]?.AsArray().Select(e => e!["path"]!.GetValue<string>()) ?? [];

    public override string ToString() => $"{Status} {Json?.ToJsonString()}";
}

/// <summary>Admin clients for tests, and requests to the Admin API with their access tokens.</summary>
public static class AdminApi
{
    public const string PlatformClient = "platform-admin";
    public const string OrganizationClient = "stmarys-admin";
    public static readonly string PlatformSecret = ClientSecretHasher.Generate();
    public static readonly string OrganizationSecret = ClientSecretHasher.Generate();

    /// <summary>A platform admin (<c>tessera:admin</c>) and St Mary's own admin (<c>tessera:admin:org:st-marys</c>).</summary>
    public static void AddClients(TesseraOptions options)
    {
        options.Clients.Add(new ClientOptions
        {
            ClientId = PlatformClient,
            Type = "confidential",
            ClientSecret = PlatformSecret,
            GrantTypes = ["client_credentials"],
            Scopes = ["tessera:admin"],
        });
        options.Clients.Add(new ClientOptions
        {
            ClientId = OrganizationClient,
            Type = "confidential",
            ClientSecret = OrganizationSecret,
            GrantTypes = ["client_credentials"],
            Scopes = ["tessera:admin:org:" + TestConfiguration.Organization],
        });
    }

    public static Task<HttpClient> PlatformAsync(TesseraTestServer server) => ClientAsync(server, PlatformClient, PlatformSecret);

    public static Task<HttpClient> OrganizationAsync(TesseraTestServer server) => ClientAsync(server, OrganizationClient, OrganizationSecret);

    /// <summary>An HTTP client whose requests carry an access token of <paramref name="clientId"/>, based at <c>/admin/v1/</c>.</summary>
    public static async Task<HttpClient> ClientAsync(TesseraTestServer server, string clientId, string secret, string? scope = null)
    {
        using var tokens = server.CreateClient();
        var token = await Oauth.ClientCredentialsAsync(tokens, clientId, secret, scope);
        Assert.True(token.Status == 200, token.Json.ToString());
        var http = server.CreateClient();
        http.BaseAddress = new Uri(server.BaseAddress, "admin/v1/");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token["access_token"]);
        return http;
    }

    public static Task<AdminResponse> GetAsync(HttpClient http, string path) => SendAsync(http, HttpMethod.Get, path);

    public static Task<AdminResponse> PostAsync(HttpClient http, string path, object? body = null) => SendAsync(http, HttpMethod.Post, path, body);

    public static Task<AdminResponse> PutAsync(HttpClient http, string path, object body, string? ifMatch = null) => SendAsync(http, HttpMethod.Put, path, body, ifMatch);

    public static Task<AdminResponse> DeleteAsync(HttpClient http, string path, string? ifMatch = null) => SendAsync(http, HttpMethod.Delete, path, null, ifMatch);

    /// <summary>Sends <paramref name="body"/> as JSON (a string is sent as it is: raw JSON, or anything else).</summary>
    public static async Task<AdminResponse> SendAsync(HttpClient http, HttpMethod method, string path, object? body = null, string? ifMatch = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            var text = body as string ?? System.Text.Json.JsonSerializer.Serialize(body);
            request.Content = new StringContent(text, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        var response = await http.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (content.Length > 0 && (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) ?? false))
        {
            json = JsonNode.Parse(content);
        }

        return new AdminResponse((int)response.StatusCode, json, response);
    }
}
