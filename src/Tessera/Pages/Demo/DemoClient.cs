using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

/// <summary>
/// DEVELOPMENT ONLY. The sample application's OAuth client: authorization code with PKCE against Tessera over
/// real HTTP, exactly as an external application would do it.
/// </summary>
public sealed class DemoClient(TesseraIssuer issuer, IDataProtectionProvider protection, IHttpClientFactory httpClients)
{
    private const string CookieName = "tessera.demo";
    private readonly IDataProtector _protector = protection.CreateProtector("Tessera.Demo.Client");


    public string CallbackUri => issuer.Url("/demo/callback");

    public string Begin(HttpContext http)
    {
        var pending = new Pending(Random(), Random(), Random());
        http.Response.Cookies.Append(CookieName, _protector.Protect(JsonSerializer.Serialize(pending)), new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, Path = "/demo" });
        return QueryHelpers.AddQueryString(issuer.Url("/authorize"), new Dictionary<string, string?>
        {
            ["client_id"] = DemoConfiguration.DemoClientId,
            ["response_type"] = "code",
            ["redirect_uri"] = CallbackUri,
            ["scope"] = "openid profile email offline_access read:reports doctor_access",
            ["state"] = pending.State,
            ["nonce"] = pending.Nonce,
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(pending.Verifier))),
            ["code_challenge_method"] = "S256",
        });
    }

    public async Task<(JsonDocument? Tokens, string? Error)> CompleteAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var query = http.Request.Query;
        if (!string.IsNullOrEmpty(query["error"]))
        {
            return (null, $"{query["error"]}: {query["error_description"]}");
        }

        Pending? pending = null;
        try
        {
            var cookie = http.Request.Cookies[CookieName];
            pending = cookie is null ? null : JsonSerializer.Deserialize<Pending>(_protector.Unprotect(cookie));
        }
        catch (CryptographicException)
        {
        }

        http.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/demo" });
        if (pending is null || pending.State != query["state"])
        {
            return (null, "state mismatch: start again from the demo page");
        }

        using var response = await httpClients.CreateClient().PostAsync(issuer.Url("/token"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = query["code"].ToString(),
            ["redirect_uri"] = CallbackUri,
            ["client_id"] = DemoConfiguration.DemoClientId,
            ["code_verifier"] = pending.Verifier,
        }), cancellationToken);
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return response.IsSuccessStatusCode ? (document, null) : (null, document.RootElement.ToString());
    }

    /// <summary>Header and payload of a JWT, pretty-printed, for display only (the demo trusts its own server).</summary>
    public static (string Header, string Payload) Decode(string jwt)
    {
        var parts = jwt.Split('.');
        static string Pretty(string part) => JsonSerializer.Serialize(JsonDocument.Parse(Base64UrlEncoder.Decode(part)).RootElement, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        return parts.Length >= 2 ? (Pretty(parts[0]), Pretty(parts[1])) : ("", "");
    }

    private static string Random() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private sealed record Pending(string State, string Nonce, string Verifier);
}
