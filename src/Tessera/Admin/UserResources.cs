using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Signals;
using Tessera.Sessions;
using Tessera.Storage;

namespace Tessera.Admin;

/// <summary>
/// Users: search by organization, email or external id, disable and enable (through the revocation service, so every
/// session ends, every token dies and every app and receiver hears of it), and list or end sessions. A user of an
/// organization the caller does not manage is answered as not found.
/// </summary>
public static class UserResources
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 200;

    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGet("/users", Task<IResult> (HttpContext http) => AdminEndpoints.RunAsync(http, caller => SearchAsync(http, caller)))
            .WithName("search-users").WithTags("users")
            .WithSummary("Search users (?organization=&email=&externalId=&limit=&offset=); 'next' is the offset of the next page")
            .Produces<JsonObject>(StatusCodes.Status200OK);
        admin.MapGet("/users/{id}", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, async caller => Results.Json(await RenderAsync(http, await FindAsync(http, caller, id)), contentType: AdminJson.ContentType)))
            .WithName("get-user").WithTags("users").WithSummary("Get a user with the identities it is linked to")
            .Produces<JsonObject>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/users/{id}/disable", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => DisableAsync(http, caller, id)))
            .WithName("disable-user").WithTags("users").WithSummary("Disable a user: every session ends and every token is revoked, and apps and receivers are told")
            .Produces<JsonObject>(StatusCodes.Status200OK);
        admin.MapPost("/users/{id}/enable", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => EnableAsync(http, caller, id)))
            .WithName("enable-user").WithTags("users").WithSummary("Let a disabled user sign in again (tokens from before stay dead)")
            .Produces<JsonObject>(StatusCodes.Status200OK);
        admin.MapGet("/users/{id}/sessions", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => SessionsAsync(http, caller, id)))
            .WithName("list-user-sessions").WithTags("users").WithSummary("The user's live SSO sessions")
            .Produces<JsonObject>(StatusCodes.Status200OK);
        admin.MapDelete("/users/{id}/sessions", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => EndSessionsAsync(http, caller, id, null)))
            .WithName("end-user-sessions").WithTags("users").WithSummary("End every live session of the user")
            .Produces<JsonObject>(StatusCodes.Status200OK);
        admin.MapDelete("/users/{id}/sessions/{sessionId}", (HttpContext http, string id, string sessionId) => AdminEndpoints.RunAsync(http, caller => EndSessionsAsync(http, caller, id, sessionId)))
            .WithName("end-user-session").WithTags("users").WithSummary("End one session of the user")
            .Produces<JsonObject>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> SearchAsync(HttpContext http, AdminCaller caller)
    {
        var query = http.Request.Query;
        var organization = AdminQuery.Single(query, "organization");
        var email = AdminQuery.Single(query, "email");
        var externalId = AdminQuery.Single(query, "externalId");
        var limit = AdminQuery.Limit(query, DefaultLimit, MaxLimit);
        var offset = AdminQuery.Offset(query);
        var organizations = AdminQuery.Organizations(caller, organization);

        var db = http.RequestServices.GetRequiredService<TesseraDbContext>();
        var users = db.Users.AsNoTracking();
        if (organizations is not null)
        {
            users = users.Where(u => organizations.Contains(u.OrganizationId));
        }

        if (email is not null)
        {
            var lowered = email.ToLowerInvariant();
            users = users.Where(u => u.Email != null && u.Email.ToLower() == lowered);
        }

        if (externalId is not null)
        {
            users = users.Where(u => db.ExternalIdentities.Any(l => l.UserId == u.Id && l.Subject == externalId)
                || db.DirectoryUsers.Any(d => d.UserId == u.Id && d.ExternalId == externalId));
        }

        var page = await users.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id).Skip(offset).Take(limit + 1).ToListAsync(http.RequestAborted);
        var items = new JsonArray();
        foreach (var user in page.Take(limit))
        {
            items.Add(await RenderAsync(http, user));
        }

        var result = new JsonObject { ["items"] = items };
        if (page.Count > limit)
        {
            result["next"] = offset + limit;
        }

        return Results.Json(result, contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> DisableAsync(HttpContext http, AdminCaller caller, string id)
    {
        var user = await FindAsync(http, caller, id);
        var reason = await ReasonAsync(http, "disabled through the Admin API");
        var revoked = await http.RequestServices.GetRequiredService<RevocationService>()
            .DisableUserAsync(user.Id, reason, InitiatingEntities.Admin, Event(http, caller, user, AuditEvents.UserAccessRevoked, reason), http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["id"] = user.Id.ToString(),
            ["sessions_ended"] = revoked.Sessions,
            ["authorizations_revoked"] = revoked.Authorizations,
            ["tokens_revoked"] = revoked.Tokens,
        }, contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> EnableAsync(HttpContext http, AdminCaller caller, string id)
    {
        var user = await FindAsync(http, caller, id, tracked: true);
        var reason = await ReasonAsync(http, "enabled through the Admin API");
        var enabled = await http.RequestServices.GetRequiredService<RevocationService>()
            .EnableUserAsync(user, reason, InitiatingEntities.Admin, Event(http, caller, user, AuditEvents.UserEnabled, reason), http.RequestAborted);
        return Results.Json(new JsonObject { ["id"] = user.Id.ToString(), ["enabled"] = enabled }, contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> SessionsAsync(HttpContext http, AdminCaller caller, string id)
    {
        var user = await FindAsync(http, caller, id);
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var sessions = await http.RequestServices.GetRequiredService<TesseraDbContext>().Sessions.AsNoTracking()
            .Where(s => s.UserId == user.Id && s.EndedAt == null && s.ExpiresAt > now)
            .OrderBy(s => s.AuthenticatedAt).ToListAsync(http.RequestAborted);
        var items = new JsonArray([.. sessions.Select(s => new JsonObject
        {
            ["id"] = s.Id,
            ["connection"] = s.ConnectionId,
            ["authenticated_at"] = s.AuthenticatedAt,
            ["last_seen_at"] = s.LastSeenAt,
            ["expires_at"] = s.ExpiresAt,
        })]);
        return Results.Json(new JsonObject { ["items"] = items }, contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> EndSessionsAsync(HttpContext http, AdminCaller caller, string id, string? sessionId)
    {
        var user = await FindAsync(http, caller, id);
        var db = http.RequestServices.GetRequiredService<TesseraDbContext>();
        var live = await db.Sessions.AsNoTracking().Where(s => s.UserId == user.Id && s.EndedAt == null && (sessionId == null || s.Id == sessionId))
            .Select(s => s.Id).ToListAsync(http.RequestAborted);
        if (sessionId is not null && live.Count == 0)
        {
            throw AdminProblem.NotFound($"live session '{ConfigurationResources.Shorten(sessionId)}' of this user");
        }

        var revocation = http.RequestServices.GetRequiredService<RevocationService>();
        const string reason = "ended through the Admin API";
        var ended = 0;
        foreach (var session in live)
        {
            ended += await revocation.EndSessionAsync(session, reason, InitiatingEntities.Admin, Event(http, caller, user, AuditEvents.SessionEnded, reason), http.RequestAborted) ? 1 : 0;
        }

        return Results.Json(new JsonObject { ["id"] = user.Id.ToString(), ["sessions_ended"] = ended }, contentType: AdminJson.ContentType);
    }

    private static async Task<UserRecord> FindAsync(HttpContext http, AdminCaller caller, string id, bool tracked = false)
    {
        var db = http.RequestServices.GetRequiredService<TesseraDbContext>();
        var user = Guid.TryParse(id, out var userId)
            ? await (tracked ? db.Users : db.Users.AsNoTracking()).FirstOrDefaultAsync(u => u.Id == userId, http.RequestAborted)
            : null;
        return user is not null && caller.CanManage(user.OrganizationId) ? user : throw AdminProblem.NotFound($"user '{ConfigurationResources.Shorten(id)}'");
    }

    private static async Task<JsonObject> RenderAsync(HttpContext http, UserRecord user)
    {
        var db = http.RequestServices.GetRequiredService<TesseraDbContext>();
        var identities = await db.ExternalIdentities.AsNoTracking().Where(l => l.UserId == user.Id).OrderBy(l => l.Id).ToListAsync(http.RequestAborted);
        var provisioned = await db.DirectoryUsers.AsNoTracking().FirstOrDefaultAsync(d => d.UserId == user.Id, http.RequestAborted);
        var rendered = new JsonObject
        {
            ["id"] = user.Id.ToString(),
            ["organization"] = user.OrganizationId,
            ["email"] = user.Email,
            ["email_verified"] = user.EmailVerified,
            ["name"] = user.Name,
            ["given_name"] = user.GivenName,
            ["family_name"] = user.FamilyName,
            ["created_at"] = user.CreatedAt,
            ["updated_at"] = user.UpdatedAt,
            ["disabled_at"] = user.DisabledAt,
            ["identities"] = new JsonArray([.. identities.Select(l => new JsonObject
            {
                ["connection"] = l.ConnectionId,
                ["subject"] = l.Subject,
                ["created_at"] = l.CreatedAt,
                ["last_sign_in_at"] = l.LastSignInAt,
            })]),
        };
        if (provisioned is not null)
        {
            rendered["provisioned"] = new JsonObject
            {
                ["userName"] = provisioned.UserName,
                ["externalId"] = provisioned.ExternalId,
                ["active"] = provisioned.Active,
            };
        }

        return rendered;
    }

    private static async Task<string> ReasonAsync(HttpContext http, string fallback)
    {
        if (http.Request.ContentLength is null or 0 && http.Request.Headers.TransferEncoding.Count == 0)
        {
            return fallback;
        }

        var body = await AdminJson.ReadObjectAsync(http);
        foreach (var member in body.EnumerateObject())
        {
            if (!member.NameEquals("reason") || member.Value.ValueKind != JsonValueKind.String || member.Value.GetString()!.Length is 0 or > 200)
            {
                throw AdminProblem.Invalid([new Hosting.ConfigurationError($"$.{member.Name}", "only 'reason' (a string of 1 to 200 characters) is read")]);
            }

            fallback = member.Value.GetString()!;
        }

        return fallback;
    }

    private static AuditEvent Event(HttpContext http, AdminCaller caller, UserRecord user, string name, string reason) => new(name, AuditEvent.Success)
    {
        ClientId = caller.ClientId,
        OrganizationId = user.OrganizationId,
        UserId = user.Id.ToString(),
        IpAddress = http.Connection.RemoteIpAddress?.ToString(),
        Reason = reason,
        Detail = new Dictionary<string, string?> { ["by"] = caller.Actor },
    };
}
