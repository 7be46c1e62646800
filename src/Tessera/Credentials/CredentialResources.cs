using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Admin;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>
/// The Admin API's credentials: offers with a pre-authorized code made for a user (the code and the transaction code are
/// in the response only), the credentials a user holds (never their claims), and revoking one, which its status list
/// shows from the next fetch on.
/// </summary>
public static class CredentialResources
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/users/{id}/credential-offers", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => OfferAsync(http, caller, id)))
            .WithName("create-credential-offer").WithTags("credentials")
            .WithSummary("Offer a credential to a user (OpenID4VCI pre-authorized code); body {\"credential\": ID, \"tx_code\": true}")
            .Produces<JsonObject>(StatusCodes.Status201Created);
        admin.MapGet("/users/{id}/credentials", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => ListAsync(http, caller, id)))
            .WithName("list-user-credentials").WithTags("credentials").WithSummary("The credentials issued to a user (not their claims)")
            .Produces<JsonObject>(StatusCodes.Status200OK);
        admin.MapPost("/credentials/{id}/revoke", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => RevokeAsync(http, caller, id)))
            .WithName("revoke-credential").WithTags("credentials").WithSummary("Revoke an issued credential: its status list says invalid from now on")
            .Produces<JsonObject>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> OfferAsync(HttpContext http, AdminCaller caller, string id)
    {
        var user = await UserAsync(http, caller, id);
        var body = await AdminJson.ReadObjectAsync(http);
        string? configurationId = null;
        var transactionCode = true;
        foreach (var member in body.EnumerateObject())
        {
            if (member.NameEquals("credential") && member.Value.ValueKind == JsonValueKind.String)
            {
                configurationId = member.Value.GetString();
            }
            else if (member.NameEquals("tx_code") && member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                transactionCode = member.Value.GetBoolean();
            }
            else
            {
                throw AdminProblem.Invalid([new ConfigurationError($"$.{member.Name}", "only 'credential' (a credential id) and 'tx_code' (true or false) are read")]);
            }
        }

        var credential = http.RequestServices.GetRequiredService<TesseraConfiguration>().Current.Declared.Credentials.FirstOrDefault(c => c.Id == configurationId)
            ?? throw AdminProblem.Invalid([new ConfigurationError("$.credential", "name a credential of the configuration's Credentials")]);
        if (!credential.Organizations.Contains(user.OrganizationId, StringComparer.Ordinal))
        {
            throw AdminProblem.Invalid([new ConfigurationError("$.credential", $"credential '{credential.Id}' is not offered to organization '{user.OrganizationId}'")]);
        }

        if (user.DisabledAt is not null)
        {
            throw AdminProblem.Conflict("The user is disabled.");
        }

        // Staged first: the offer's save stores both.
        http.RequestServices.GetRequiredService<AuditLog>().Stage(http.RequestServices.GetRequiredService<TesseraDbContext>(), new AuditEvent(AuditEvents.CredentialOffered, AuditEvent.Success)
        {
            ClientId = caller.ClientId,
            OrganizationId = user.OrganizationId,
            UserId = user.Id.ToString(),
            Detail = new Dictionary<string, string?> { ["by"] = caller.Actor, ["configuration"] = credential.Id, ["tx_code"] = transactionCode ? "true" : "false" },
        });
        var offer = await http.RequestServices.GetRequiredService<CredentialOffers>().CreateAsync(credential, user, transactionCode, http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["credential_offer"] = offer.Offer,
            ["credential_offer_uri"] = offer.OfferUri,
            ["tx_code"] = offer.TransactionCode,
            ["expires_at"] = offer.ExpiresAt,
        }, contentType: AdminJson.ContentType, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(HttpContext http, AdminCaller caller, string id)
    {
        var user = await UserAsync(http, caller, id);
        var db = http.RequestServices.GetRequiredService<TesseraDbContext>();
        var items = new JsonArray();
        foreach (var issued in await db.IssuedCredentials.AsNoTracking().Where(c => c.UserId == user.Id).OrderBy(c => c.IssuedAt).ToListAsync(http.RequestAborted))
        {
            items.Add(Render(issued));
        }

        return Results.Json(new JsonObject { ["items"] = items }, contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, AdminCaller caller, string id)
    {
        var db = http.RequestServices.GetRequiredService<TesseraDbContext>();
        var issued = id.Length <= 32 ? await db.IssuedCredentials.FirstOrDefaultAsync(c => c.Id == id, http.RequestAborted) : null;
        if (issued is null || !caller.CanManage(issued.OrganizationId))
        {
            throw AdminProblem.NotFound($"credential '{ConfigurationResources.Shorten(id)}'");
        }

        if (issued.RevokedAt is null)
        {
            issued.RevokedAt = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
            issued.RevokedReason = "operator";

            // Saved with the revocation: both are stored, or neither.
            http.RequestServices.GetRequiredService<AuditLog>().Stage(db, new AuditEvent(AuditEvents.CredentialRevoked, AuditEvent.Success)
            {
                ClientId = caller.ClientId,
                OrganizationId = issued.OrganizationId,
                UserId = issued.UserId.ToString(),
                Reason = "operator",
                Detail = new Dictionary<string, string?> { ["by"] = caller.Actor, ["credential"] = issued.Id, ["configuration"] = issued.ConfigurationId },
            });
            await db.SaveChangesAsync(http.RequestAborted);
        }

        return Results.Json(Render(issued), contentType: AdminJson.ContentType);
    }

    private static JsonObject Render(IssuedCredentialRecord issued) => new()
    {
        ["id"] = issued.Id,
        ["credential"] = issued.ConfigurationId,
        ["organization"] = issued.OrganizationId,
        ["user"] = issued.UserId.ToString(),
        ["status_list"] = issued.StatusList,
        ["status_index"] = issued.StatusIndex,
        ["holder_key_thumbprint"] = issued.HolderKeyThumbprint,
        ["issued_at"] = DateTime.SpecifyKind(issued.IssuedAt, DateTimeKind.Utc),
        ["expires_at"] = DateTime.SpecifyKind(issued.ExpiresAt, DateTimeKind.Utc),
        ["revoked_at"] = issued.RevokedAt is { } revoked ? DateTime.SpecifyKind(revoked, DateTimeKind.Utc) : null,
        ["revoked_reason"] = issued.RevokedReason,
    };

    private static async Task<UserRecord> UserAsync(HttpContext http, AdminCaller caller, string id)
    {
        var db = http.RequestServices.GetRequiredService<TesseraDbContext>();
        var user = Guid.TryParse(id, out var userId) ? await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, http.RequestAborted) : null;
        return user is not null && caller.CanManage(user.OrganizationId) ? user : throw AdminProblem.NotFound($"user '{ConfigurationResources.Shorten(id)}'");
    }
}
