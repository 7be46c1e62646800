using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Tessera.Credentials;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

/// <summary>A request the demo app made: where the wallet goes to answer it (the OpenID4VP link's parameters) and the link itself.</summary>
public sealed record AgeCheckRequest(string WalletLink, string WalletUrl);

/// <summary>
/// DEVELOPMENT ONLY. The demo app's server side as a verifier's client: it asks Tessera's OpenID4VP verifier for the
/// "over 21" presentation (same-device, back to <c>/demo/age/result</c>), and redeems the result over real HTTP with its
/// client secret, as any app would. The request id waits in a protected cookie of the browser that asked.
/// </summary>
public sealed class DemoAgeCheck(TesseraIssuer issuer, IDataProtectionProvider protection, IHttpClientFactory httpClients)
{
    public const string BasePath = "/demo/age";
    private const string CookieName = "tessera.demo.age";
    private readonly IDataProtector _protector = protection.CreateProtector("Tessera.Demo.AgeCheck");

    public string ResultUri => issuer.Url(BasePath + "/result");

    public async Task<(AgeCheckRequest? Request, string? Error)> BeginAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var (ok, body) = await SendAsync(PresentationEndpoints.RequestsPath, new Dictionary<string, string>
        {
            ["presentation"] = DemoConfiguration.Over21PresentationId,
            ["redirect_uri"] = ResultUri,
        }, cancellationToken);
        if (!ok || body?["request_id"]?.GetValue<string>() is not { } id || body["wallet_link"]?.GetValue<string>() is not { } link)
        {
            return (null, "the verifier refused the request: " + body?.ToJsonString());
        }

        http.Response.Cookies.Append(CookieName, _protector.Protect(id), new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, Path = BasePath, Secure = http.Request.IsHttps });

        // The link is what a QR code would carry to a phone; the demo wallet lives in this browser, so it gets the same parameters.
        var parameters = QueryHelpers.ParseQuery(new Uri(link).Query);
        var walletUrl = QueryHelpers.AddQueryString(issuer.Url(DemoWallet.BasePath), new Dictionary<string, string?>
        {
            ["client_id"] = parameters["client_id"].ToString(),
            ["request_uri"] = parameters["request_uri"].ToString(),
        });
        return (new AgeCheckRequest(link, walletUrl), null);
    }

    /// <summary>The wallet sent the browser back with a response code: redeem the result once, with the request id this browser kept.</summary>
    public async Task<(JsonObject? Result, string? Error)> CompleteAsync(HttpContext http, CancellationToken cancellationToken)
    {
        string? id = null;
        try
        {
            id = http.Request.Cookies[CookieName] is { } cookie ? _protector.Unprotect(cookie) : null;
        }
        catch (CryptographicException)
        {
        }

        http.Response.Cookies.Delete(CookieName, new CookieOptions { Path = BasePath });
        if (id is null)
        {
            return (null, "no age check is under way in this browser: start again from the demo app");
        }

        var (ok, body) = await SendAsync(PresentationEndpoints.ResultPath, new Dictionary<string, string>
        {
            ["request_id"] = id,
            ["response_code"] = http.Request.Query["response_code"].ToString(),
        }, cancellationToken);
        return ok && body?["token"] is not null
            ? (body, null)
            : (null, $"{body?["error"]}: {body?["error_description"]}");
    }

    /// <summary>
    /// Posts to the verifier with HTTP Basic (RFC 6749 §2.3.1, each part form-url-encoded). An unreachable verifier is
    /// an answer like any other refusal, never a server error of the demo's page.
    /// </summary>
    private async Task<(bool Ok, JsonObject? Body)> SendAsync(string path, Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, issuer.Url(path)) { Content = new FormUrlEncodedContent(form) };
        var credentials = Uri.EscapeDataString(DemoConfiguration.AgeCheckClientId) + ":" + Uri.EscapeDataString(DemoConfiguration.AgeCheckClientSecret);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        try
        {
            using var response = await httpClients.CreateClient().SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return (response.IsSuccessStatusCode, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null);
        }
        catch (Exception exception) when (exception is HttpRequestException or System.Text.Json.JsonException
            || exception is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (false, new JsonObject { ["error"] = "verifier_unreachable", ["error_description"] = exception.Message });
        }
    }
}
