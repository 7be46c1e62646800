using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Audit;
using Tessera.Hosting;

namespace Tessera.Admin;

/// <summary>
/// Setup links through the Admin API: made for one organization (the URL is in the response that made it, and nowhere
/// else), listed, and revoked (which also ends the portal session the link opened).
/// </summary>
public static class SetupLinkResources
{
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(30);

    public static void Map(RouteGroupBuilder admin)
    {
        const string collection = "/organizations/{organizationId}/setup-links";
        admin.MapPost(collection, (HttpContext http, string organizationId) => AdminEndpoints.RunAsync(http, caller => CreateAsync(http, caller, organizationId)))
            .WithName("create-setup-link").WithTags("organizations/setup-links")
            .WithSummary("Make a single-use link that opens the setup portal for this organization (body: {\"lifetime\": \"d.hh:mm:ss\"}, optional)")
            .Produces<JsonObject>(StatusCodes.Status201Created);
        admin.MapGet(collection, (HttpContext http, string organizationId) => AdminEndpoints.RunAsync(http, caller => ListAsync(http, caller, organizationId)))
            .WithName("list-setup-links").WithTags("organizations/setup-links").WithSummary("The organization's setup links and whether they were used")
            .Produces<JsonObject>(StatusCodes.Status200OK);
        admin.MapDelete(collection + "/{id}", (HttpContext http, string organizationId, string id) => AdminEndpoints.RunAsync(http, caller => RevokeAsync(http, caller, organizationId, id)))
            .WithName("revoke-setup-link").WithTags("organizations/setup-links").WithSummary("Revoke a setup link and end the portal session it opened")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, AdminCaller caller, string organizationId)
    {
        Organization(http, caller, organizationId);
        TimeSpan? lifetime = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            foreach (var member in (await AdminJson.ReadObjectAsync(http)).EnumerateObject())
            {
                if (!member.NameEquals("lifetime") || member.Value.ValueKind != JsonValueKind.String
                    || !TimeSpan.TryParseExact(member.Value.GetString(), "c", CultureInfo.InvariantCulture, out var value) || value <= TimeSpan.Zero || value > MaxLifetime)
                {
                    throw AdminProblem.Invalid([new ConfigurationError($"$.{member.Name}", $"only 'lifetime' (a duration d.hh:mm:ss, at most {MaxLifetime.Days} days) is read")]);
                }

                lifetime = value;
            }
        }

        var (link, url) = await AuditedChange.RunAsync(http, caller, organizationId, "setup-link",
            () => http.RequestServices.GetRequiredService<SetupLinks>().CreateAsync(organizationId, lifetime, caller.Actor, http.RequestAborted),
            _ => true, created => $"created setup link '{created.Link.Id}'");
        http.Response.Headers.CacheControl = "no-store";
        var rendered = Render(link);
        rendered["url"] = url;
        return Results.Json(rendered, contentType: AdminJson.ContentType, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(HttpContext http, AdminCaller caller, string organizationId)
    {
        Organization(http, caller, organizationId);
        var links = await http.RequestServices.GetRequiredService<SetupLinks>().ListAsync(organizationId, http.RequestAborted);
        return Results.Json(new JsonObject { ["items"] = new JsonArray([.. links.Select(Render)]) }, contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, AdminCaller caller, string organizationId, string id)
    {
        Organization(http, caller, organizationId);
        if (!await AuditedChange.RunAsync(http, caller, organizationId, "setup-link",
                () => http.RequestServices.GetRequiredService<SetupLinks>().RevokeAsync(organizationId, id, http.RequestAborted),
                revoked => revoked, _ => $"revoked setup link '{id}'"))
        {
            throw AdminProblem.NotFound($"live setup link '{ConfigurationResources.Shorten(id)}' of this organization");
        }

        return Results.NoContent();
    }

    private static void Organization(HttpContext http, AdminCaller caller, string organizationId)
    {
        if (!caller.CanManage(organizationId))
        {
            throw new ScopeRequired(AdminCaller.OrganizationScope(organizationId));
        }

        var model = http.RequestServices.GetRequiredService<TesseraConfiguration>().Current;
        if (!ConfigurationResources.OrganizationExists(model.File, model.Managed, organizationId))
        {
            throw AdminProblem.NotFound($"organization '{ConfigurationResources.Shorten(organizationId)}'");
        }
    }

    private static JsonObject Render(Storage.SetupLinkRecord link) => new()
    {
        ["id"] = link.Id,
        ["created_at"] = link.CreatedAt,
        ["expires_at"] = link.ExpiresAt,
        ["used_at"] = link.UsedAt,
        ["revoked_at"] = link.RevokedAt,
        ["created_by"] = link.CreatedBy,
    };
}
