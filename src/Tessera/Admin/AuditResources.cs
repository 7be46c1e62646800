using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Storage;

namespace Tessera.Admin;

/// <summary>
/// The audit log, queried by time, event, organization and user, oldest first, in pages continued by the id of the
/// last row seen (stable while rows are appended). Each row carries its hash and its predecessor's, so a reader can
/// check the chain over what it fetched. An organization-scoped caller sees its organization's rows only.
/// </summary>
public static class AuditResources
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    public static void Map(RouteGroupBuilder admin) =>
        admin.MapGet("/audit", Task<IResult> (HttpContext http) => AdminEndpoints.RunAsync(http, caller => QueryAsync(http, caller)))
            .WithName("query-audit").WithTags("audit")
            .WithSummary("Audit rows (?from=&to=&event=&organization=&user=&after=&limit=), oldest first; 'next' is the 'after' of the next page")
            .Produces<JsonObject>(StatusCodes.Status200OK);

    private static async Task<IResult> QueryAsync(HttpContext http, AdminCaller caller)
    {
        var query = http.Request.Query;
        var from = AdminQuery.Time(query, "from");
        var to = AdminQuery.Time(query, "to");
        var name = AdminQuery.Single(query, "event");
        var user = AdminQuery.Single(query, "user");
        var limit = AdminQuery.Limit(query, DefaultLimit, MaxLimit);
        var after = AdminQuery.Single(query, "after") is { } cursor
            ? long.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : throw AdminProblem.BadRequest("after must be a row id (a previous page's 'next').")
            : 0L;
        var organizations = AdminQuery.Organizations(caller, AdminQuery.Single(query, "organization"));

        var rows = http.RequestServices.GetRequiredService<TesseraDbContext>().AuditEvents.AsNoTracking().Where(a => a.Id > after);
        if (from is { } start)
        {
            rows = rows.Where(a => a.OccurredAt >= start);
        }

        if (to is { } end)
        {
            rows = rows.Where(a => a.OccurredAt < end);
        }

        if (name is not null)
        {
            rows = rows.Where(a => a.Event == name);
        }

        if (user is not null)
        {
            rows = rows.Where(a => a.UserId == user);
        }

        if (organizations is not null)
        {
            rows = rows.Where(a => a.OrganizationId != null && organizations.Contains(a.OrganizationId));
        }

        var page = await rows.OrderBy(a => a.Id).Take(limit + 1).ToListAsync(http.RequestAborted);
        var result = new JsonObject { ["items"] = new JsonArray([.. page.Take(limit).Select(Render)]) };
        if (page.Count > limit)
        {
            result["next"] = page[limit - 1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Results.Json(result, contentType: AdminJson.ContentType);
    }

    /// <summary>The export's columns, with the time as a JSON date and the detail as the object it holds.</summary>
    private static JsonObject Render(AuditRecord row)
    {
        var json = AuditExport.Columns(row);
        json["occurred_at"] = row.OccurredAt;
        json["detail"] = row.Detail is null ? null : Parse(row.Detail);
        return json;
    }

    private static JsonNode? Parse(string detail)
    {
        try
        {
            return JsonNode.Parse(detail);
        }
        catch (JsonException)
        {
            return detail;
        }
    }
}
