using System.Globalization;
using System.Net;
using System.Text.Json;
using Tessera.Directory;
using Tessera.Protocol;

namespace Tessera.Hosting;

/// <summary>
/// "Not now, try again in N seconds" in the error shape of the endpoint asked: OAuth's JSON at the token,
/// introspection, revocation and userinfo endpoints, SCIM's error, an RFC 9457 problem for the Admin API, a short page
/// elsewhere; always with <c>Retry-After</c> and never cached. For a refusal that is about time, not about the request.
/// </summary>
public static class RetryLaterResponse
{
    private static readonly string[] OAuthEndpoints =
        ["/" + ProtocolEndpoints.Token, "/" + ProtocolEndpoints.Introspection, "/" + ProtocolEndpoints.Revocation, "/" + ProtocolEndpoints.UserInfo];

    /// <param name="code">The Admin API problem's code (<c>locked_out</c>, <c>storage_unavailable</c>).</param>
    /// <param name="title">The Admin API problem's title.</param>
    public static async Task WriteAsync(HttpContext http, int status, TimeSpan retryAfter, string code, string title, string detail)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        var response = http.Response;
        response.StatusCode = status;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "no-store";
        var path = http.Request.Path;
        if (path.StartsWithSegments("/scim", StringComparison.OrdinalIgnoreCase))
        {
            response.ContentType = "application/scim+json";
            await response.WriteAsync(ScimRender.Error(status, null, detail).ToJsonString());
        }
        else if (path.StartsWithSegments(Admin.AdminEndpoints.Prefix, StringComparison.OrdinalIgnoreCase))
        {
            response.ContentType = Admin.AdminProblem.ContentType;
            await response.WriteAsync(JsonSerializer.Serialize(new Admin.AdminProblem(status, code, title, detail).Body()));
        }
        else if (OAuthEndpoints.Any(endpoint => path.StartsWithSegments(endpoint, StringComparison.OrdinalIgnoreCase)))
        {
            // RFC 6749 has no code of its own for this; temporarily_unavailable is the registered one that says "later".
            response.ContentType = "application/json";
            await response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["error"] = "temporarily_unavailable",
                ["error_description"] = detail,
            }));
        }
        else
        {
            response.ContentType = "text/html; charset=utf-8";
            await response.WriteAsync(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Try again later</title></head>"
                + $"<body><h1>Try again later</h1><p>{WebUtility.HtmlEncode(detail)}</p></body></html>");
        }
    }
}
