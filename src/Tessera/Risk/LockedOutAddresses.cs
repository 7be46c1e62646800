using System.Globalization;
using System.Net;
using System.Text.Json;
using Tessera.Directory;
using Tessera.Protocol;

namespace Tessera.Risk;

/// <summary>
/// Refuses every request from a locked-out address with 429 and <c>Retry-After</c>, in the error shape of the endpoint
/// asked (OAuth's JSON at the token, introspection and revocation endpoints, SCIM's error, an RFC 9457 problem for the
/// Admin API, a short page elsewhere), before any work is done for it. What anyone may read stays open: discovery,
/// keys, health and the audit checkpoints.
/// </summary>
public static class LockedOutAddresses
{
    private static readonly string[] OpenPaths = ["/.well-known/", "/healthz", "/readyz", "/audit/checkpoints"];

    private static readonly string[] OAuthEndpoints =
        ["/" + ProtocolEndpoints.Token, "/" + ProtocolEndpoints.Introspection, "/" + ProtocolEndpoints.Revocation, "/" + ProtocolEndpoints.UserInfo];

    public static IApplicationBuilder UseLockedOutAddresses(this IApplicationBuilder app)
    {
        var bursts = app.ApplicationServices.GetRequiredService<FailureBursts>();
        return app.Use((http, next) =>
        {
            if (!bursts.IsLockedOut(http.Connection.RemoteIpAddress, out var retryAfter) || IsOpen(http.Request.Path))
            {
                return next(http);
            }

            return RefuseAsync(http, retryAfter);
        });
    }

    private static bool IsOpen(PathString path) =>
        OpenPaths.Any(open => path.StartsWithSegments(open.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));

    private static async Task RefuseAsync(HttpContext http, TimeSpan retryAfter)
    {
        var seconds = (long)Math.Ceiling(retryAfter.TotalSeconds);
        var detail = $"Too many failed attempts from this address; try again in {seconds} seconds.";
        var response = http.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "no-store";
        var path = http.Request.Path;
        if (path.StartsWithSegments("/scim", StringComparison.OrdinalIgnoreCase))
        {
            response.ContentType = "application/scim+json";
            await response.WriteAsync(ScimRender.Error(StatusCodes.Status429TooManyRequests, null, detail).ToJsonString());
        }
        else if (path.StartsWithSegments(Admin.AdminEndpoints.Prefix, StringComparison.OrdinalIgnoreCase))
        {
            response.ContentType = Admin.AdminProblem.ContentType;
            await response.WriteAsync(JsonSerializer.Serialize(new Admin.AdminProblem(StatusCodes.Status429TooManyRequests, "locked_out", "Too many failed attempts", detail).Body()));
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
