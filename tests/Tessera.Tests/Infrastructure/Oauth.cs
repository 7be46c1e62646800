using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Tests.Infrastructure;

/// <summary>A token endpoint (or introspection, revocation) answer: status and JSON.</summary>
public sealed record OauthResponse(int Status, JsonElement Json)
{
    public string? Error => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("error", out var e) ? e.GetString() : null;

    public string? this[string name] => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty(name, out var v)
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText() : null;

    public JsonWebToken AccessToken => new(this["access_token"]!);

    public JsonWebToken IdToken => new(this["id_token"]!);
}

/// <summary>Where an authorization request ended: a redirect to the client (code or error), or a page.</summary>
public sealed record AuthorizationOutcome(Uri? Redirect, HttpResponseMessage Response, string Verifier, string State, string Nonce)
{
    public IDictionary<string, string> Parameters => Redirect is null ? new Dictionary<string, string>()
        : QueryHelpers.ParseQuery(Redirect.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    public string? Code => Parameters.TryGetValue("code", out var code) ? code : null;

    public string? Error => Parameters.TryGetValue("error", out var error) ? error : null;
}

/// <summary>Client-side protocol steps as an application performs them.</summary>
public static class Oauth
{
    public static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public static string AuthorizeUrl(string clientId, string redirectUri, string scope, string state, string nonce, string? challenge, IDictionary<string, string?>? extra = null)
    {
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = clientId,
            ["response_type"] = "code",
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["state"] = state,
            ["nonce"] = nonce,
        };
        if (challenge is not null)
        {
            parameters["code_challenge"] = challenge;
            parameters["code_challenge_method"] = "S256";
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                parameters.Remove(name);
            }
            else
            {
                parameters[name] = value;
            }
        }

        return QueryHelpers.AddQueryString("authorize", parameters); // relative: a browser resolves it under the server's issuer
    }

    /// <summary>Runs an authorization request in the browser until Tessera redirects to the client (or shows a page).</summary>
    public static async Task<AuthorizationOutcome> AuthorizeAsync(Browser browser, string clientId, string redirectUri, string scope, IDictionary<string, string?>? extra = null)
    {
        var (verifier, challenge) = Pkce();
        var state = Guid.NewGuid().ToString("N");
        var nonce = Guid.NewGuid().ToString("N");
        var url = AuthorizeUrl(clientId, redirectUri, scope, state, nonce, challenge, extra);
        var navigation = await browser.NavigateAsync(url, uri => uri.AbsoluteUri.StartsWith(redirectUri, StringComparison.Ordinal));
        return new AuthorizationOutcome(navigation.StoppedAt, navigation.Response, verifier, state, nonce);
    }

    public static Task<OauthResponse> TokenAsync(HttpClient http, IDictionary<string, string> form, (string Id, string Secret)? basic = null) =>
        PostAsync(http, "token", form, basic);

    public static Task<OauthResponse> RedeemAsync(HttpClient http, string clientId, string? secret, string redirectUri, AuthorizationOutcome outcome) =>
        TokenAsync(http, WithClient(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = outcome.Code!,
            ["redirect_uri"] = redirectUri,
            ["code_verifier"] = outcome.Verifier,
        }, clientId, secret), secret is null ? null : (clientId, secret));

    public static Task<OauthResponse> RefreshAsync(HttpClient http, string clientId, string? secret, string refreshToken) =>
        TokenAsync(http, WithClient(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }, clientId, secret),
            secret is null ? null : (clientId, secret));

    public static Task<OauthResponse> ClientCredentialsAsync(HttpClient http, string clientId, string secret, string? scope = null, string? resource = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        if (resource is not null)
        {
            form["resource"] = resource;
        }

        return TokenAsync(http, form, (clientId, secret));
    }

    public static Task<OauthResponse> IntrospectAsync(HttpClient http, string clientId, string secret, string token) =>
        PostAsync(http, "introspect", new Dictionary<string, string> { ["token"] = token }, (clientId, secret));

    public static Task<OauthResponse> RevokeAsync(HttpClient http, string clientId, string? secret, string token) =>
        PostAsync(http, "revoke", WithClient(new Dictionary<string, string> { ["token"] = token }, clientId, secret), secret is null ? null : (clientId, secret));

    public static async Task<OauthResponse> PostAsync(HttpClient http, string path, IDictionary<string, string> form, (string Id, string Secret)? basic = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (basic is { } credentials)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(credentials.Id)}:{Uri.EscapeDataString(credentials.Secret)}")));
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new OauthResponse((int)response.StatusCode, json);
    }

    private static Dictionary<string, string> WithClient(Dictionary<string, string> form, string clientId, string? secret)
    {
        if (secret is null)
        {
            form["client_id"] = clientId;
        }

        return form;
    }
}
