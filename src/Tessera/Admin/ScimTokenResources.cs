using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Audit;
using Tessera.Directory;
using Tessera.Hosting;

namespace Tessera.Admin;

/// <summary>
/// An organization's SCIM bearer tokens: made here (the token is in the response that made it, and nowhere else; only
/// its hash is stored), listed, and revoked. Tokens declared in the file are listed by position, without their values.
/// </summary>
public static class ScimTokenResources
{
    private const int MaxDescription = 200;

    public static void Map(RouteGroupBuilder admin)
    {
        const string collection = "/organizations/{organizationId}/scim-tokens";
        admin.MapGet(collection, (HttpContext http, string organizationId) => AdminEndpoints.RunAsync(http, caller => ListAsync(http, caller, organizationId)))
            .WithName("list-scim-tokens").WithTags("organizations/scim-tokens").WithSummary("List an organization's SCIM tokens (never their values)")
            .Produces<JsonObject>(StatusCodes.Status200OK);
        admin.MapPost(collection, (HttpContext http, string organizationId) => AdminEndpoints.RunAsync(http, caller => CreateAsync(http, caller, organizationId)))
            .WithName("create-scim-token").WithTags("organizations/scim-tokens").WithSummary("Make a SCIM token; it is in this response only")
            .Produces<JsonObject>(StatusCodes.Status201Created);
        admin.MapDelete(collection + "/{id}", (HttpContext http, string organizationId, string id) => AdminEndpoints.RunAsync(http, caller => RevokeAsync(http, caller, organizationId, id)))
            .WithName("revoke-scim-token").WithTags("organizations/scim-tokens").WithSummary("Revoke a SCIM token at once")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>Revokes every stored token of an organization (it was deleted).</summary>
    public static async Task RevokeAllAsync(HttpContext http, string organizationId)
    {
        var tokens = http.RequestServices.GetRequiredService<ScimTokens>();
        foreach (var token in await tokens.ListAsync(organizationId, http.RequestAborted))
        {
            await tokens.RevokeAsync(token.Id, http.RequestAborted);
        }
    }

    private static async Task<IResult> ListAsync(HttpContext http, AdminCaller caller, string organizationId)
    {
        var model = Organization(http, caller, organizationId);
        var items = new JsonArray();
        var declared = model.File.Organizations.FirstOrDefault(o => o.Id == organizationId)?.Scim.Tokens.Count ?? 0;
        for (var t = 0; t < declared; t++)
        {
            items.Add(new JsonObject { ["id"] = $"file-{t + 1}", ["source"] = ResourceView.File });
        }

        foreach (var token in await http.RequestServices.GetRequiredService<ScimTokens>().ListAsync(organizationId, http.RequestAborted))
        {
            items.Add(Render(token));
        }

        return Results.Json(new JsonObject { ["items"] = items }, contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, AdminCaller caller, string organizationId)
    {
        Organization(http, caller, organizationId);
        string? description = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = await AdminJson.ReadObjectAsync(http);
            foreach (var member in body.EnumerateObject())
            {
                if (!member.NameEquals("description") || member.Value.ValueKind != JsonValueKind.String || member.Value.GetString()!.Length > MaxDescription)
                {
                    throw AdminProblem.Invalid([new ConfigurationError($"$.{member.Name}", $"only 'description' (a string of at most {MaxDescription} characters) is read")]);
                }

                description = member.Value.GetString();
            }
        }

        var (record, token) = await AuditedChange.RunAsync(http, caller, organizationId, "scim-token",
            () => http.RequestServices.GetRequiredService<ScimTokens>().CreateAsync(organizationId, description, http.RequestAborted),
            _ => true, created => $"created SCIM token '{created.Record.Id}'");
        var rendered = Render(record);
        rendered["token"] = token;
        rendered["base_url"] = http.RequestServices.GetRequiredService<TesseraIssuer>().Url($"/scim/v2/{Uri.EscapeDataString(organizationId)}");
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(rendered, contentType: AdminJson.ContentType, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, AdminCaller caller, string organizationId, string id)
    {
        Organization(http, caller, organizationId);
        var tokens = http.RequestServices.GetRequiredService<ScimTokens>();
        if (id.StartsWith("file-", StringComparison.Ordinal))
        {
            throw AdminProblem.ManagedByFile($"The SCIM token '{ConfigurationResources.Shorten(id)}'");
        }

        var owned = (await tokens.ListAsync(organizationId, http.RequestAborted)).Any(t => t.Id == id && t.RevokedAt is null);
        if (!owned || !await AuditedChange.RunAsync(http, caller, organizationId, "scim-token",
                () => tokens.RevokeAsync(id, http.RequestAborted), revoked => revoked, _ => $"revoked SCIM token '{id}'"))
        {
            throw AdminProblem.NotFound($"live SCIM token '{ConfigurationResources.Shorten(id)}' of this organization");
        }

        return Results.NoContent();
    }

    private static TesseraModel Organization(HttpContext http, AdminCaller caller, string organizationId)
    {
        if (!caller.CanManage(organizationId))
        {
            throw new ScopeRequired(AdminCaller.OrganizationScope(organizationId));
        }

        var model = http.RequestServices.GetRequiredService<TesseraConfiguration>().Current;
        return ConfigurationResources.OrganizationExists(model.File, model.Managed, organizationId)
            ? model
            : throw AdminProblem.NotFound($"organization '{ConfigurationResources.Shorten(organizationId)}'");
    }

    private static JsonObject Render(Storage.ScimTokenRecord token) => new()
    {
        ["id"] = token.Id,
        ["source"] = ResourceView.Managed,
        ["description"] = token.Description,
        ["created_at"] = token.CreatedAt,
        ["revoked_at"] = token.RevokedAt,
    };
}
