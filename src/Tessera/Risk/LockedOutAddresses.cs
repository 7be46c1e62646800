using Tessera.Hosting;

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

    private static Task RefuseAsync(HttpContext http, TimeSpan retryAfter)
    {
        var seconds = (long)Math.Ceiling(retryAfter.TotalSeconds);
        return RetryLaterResponse.WriteAsync(http, StatusCodes.Status429TooManyRequests, retryAfter, "locked_out", "Too many failed attempts",
            $"Too many failed attempts from this address; try again in {seconds} seconds.");
    }
}
