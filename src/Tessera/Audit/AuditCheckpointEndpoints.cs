using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// The signed checkpoints, public and without authentication (they reveal counts and hashes, nothing recorded in a
/// row): <c>GET /audit/checkpoints?after=COUNT&amp;limit=N</c> answers <c>{"checkpoints": [JWS, ...]}</c> oldest first,
/// with <c>next</c> (the <c>after</c> of the next page) while more follow; <c>GET /audit/checkpoints/latest</c> answers
/// the newest JWS itself. Anyone can check them against the keys at the <c>jwks_uri</c> that discovery names.
/// </summary>
public static class AuditCheckpointEndpoints
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapAuditCheckpoints(this IEndpointRouteBuilder endpoints)
    {
        var checkpoints = endpoints.MapGroup("/audit/checkpoints");
        checkpoints.MapGet("", ListAsync);
        checkpoints.MapGet("/latest", LatestAsync);
        return endpoints;
    }

    private static async Task<IResult> ListAsync(HttpContext http, TesseraDbContext db)
    {
        Public(http);
        var query = http.Request.Query;
        if (!Number(query["after"], 0, long.MaxValue, 0, out var after))
        {
            return Problem("after must be a row count: the count of the last checkpoint already held, or the previous page's next");
        }

        if (!Number(query["limit"], 1, MaxLimit, DefaultLimit, out var limit))
        {
            return Problem($"limit must be a number from 1 to {MaxLimit}");
        }

        var page = await db.AuditCheckpoints.AsNoTracking().Where(c => c.Count > after).OrderBy(c => c.Count)
            .Take((int)limit + 1).Select(c => new { c.Count, c.Token }).ToListAsync(http.RequestAborted);
        var result = new JsonObject { ["checkpoints"] = new JsonArray([.. page.Take((int)limit).Select(c => (JsonNode)c.Token)]) };
        if (page.Count > limit)
        {
            result["next"] = page[(int)limit - 1].Count.ToString(CultureInfo.InvariantCulture);
        }

        return Results.Json(result);
    }

    private static async Task<IResult> LatestAsync(HttpContext http, TesseraDbContext db)
    {
        Public(http);
        var token = await db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.HeadId).Select(c => c.Token).FirstOrDefaultAsync(http.RequestAborted);
        return token is null
            ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No checkpoint yet", detail: "No audit checkpoint has been signed yet.")
            : Results.Text(token, AuditCheckpoint.MediaType);
    }

    private static void Public(HttpContext http)
    {
        // Anyone may read them, from anywhere (a verifier in a browser too); a new one may come at any moment.
        http.Response.Headers.AccessControlAllowOrigin = "*";
        http.Response.Headers.CacheControl = "no-cache";
    }

    private static bool Number(Microsoft.Extensions.Primitives.StringValues values, long min, long max, long fallback, out long value)
    {
        value = fallback;
        if (values.Count == 0)
        {
            return true;
        }

        return values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }

    private static IResult Problem(string detail) => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);
}
