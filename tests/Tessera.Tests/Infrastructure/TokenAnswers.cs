using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// A token endpoint's whole answer (status, headers, JSON), and the parts two answers are compared by: for telling the
/// lean token path's answer from the pipeline's for the same request.
/// </summary>
public static class TokenAnswers
{
    public sealed record Answer(int Status, HttpResponseHeaders Headers, string? ContentType, JsonElement Json)
    {
        public JsonWebToken AccessToken => new(Json.GetProperty("access_token").GetString());
    }

    public static async Task<Answer> SendAsync(HttpClient http, IEnumerable<KeyValuePair<string, string>> form, string? basic = null, string contentType = "application/x-www-form-urlencoded")
    {
        var body = string.Join('&', form.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
        using var request = new HttpRequestMessage(HttpMethod.Post, "token") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (basic is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Answer((int)response.StatusCode, response.Headers, response.Content.Headers.ContentType?.ToString(),
            text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>That both answers succeeded alike: content type, caching headers, the same members (the token and its expiry aside) and the same token shape.</summary>
    public static void AssertSameSuccess(Answer pipeline, Answer lean)
    {
        Assert.Equal((200, 200), (lean.Status, pipeline.Status));
        Assert.Equal(pipeline.ContentType, lean.ContentType);
        foreach (var header in new[] { "Cache-Control", "Pragma" })
        {
            Assert.Equal(string.Join(',', pipeline.Headers.GetValues(header)), string.Join(',', lean.Headers.GetValues(header)));
        }

        Assert.Equal(Fields(pipeline.Json, "access_token", "expires_in"), Fields(lean.Json, "access_token", "expires_in"));
        Assert.InRange(lean.Json.GetProperty("expires_in").GetInt64() - pipeline.Json.GetProperty("expires_in").GetInt64(), -1, 1);

        var (leanToken, pipelineToken) = (lean.AccessToken, pipeline.AccessToken);
        Assert.Equal(Header(pipelineToken), Header(leanToken));
        Assert.Equal(Fields(Payload(pipelineToken), "jti", "iat", "exp"), Fields(Payload(leanToken), "jti", "iat", "exp"));
        Assert.Equal(pipelineToken.ValidTo - pipelineToken.IssuedAt, leanToken.ValidTo - leanToken.IssuedAt);
        Assert.True(Guid.TryParse(leanToken.Id, out _));
        Assert.NotEqual(pipelineToken.Id, leanToken.Id);
    }

    private static string Header(JsonWebToken token) => $"{token.Alg} {token.Kid} {token.Typ}";

    private static JsonElement Payload(JsonWebToken token) => JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(token.EncodedPayload)).RootElement;

    /// <summary>The object's members but <paramref name="except"/>, sorted, as JSON text.</summary>
    private static string Fields(JsonElement json, params string[] except) =>
        string.Join(", ", json.EnumerateObject().Where(p => !except.Contains(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value.GetRawText()}"));
}
