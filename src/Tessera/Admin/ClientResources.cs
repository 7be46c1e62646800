using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tessera.Hosting;
using Tessera.Protocol;

namespace Tessera.Admin;

/// <summary>
/// A managed client's secrets: Tessera generates them (256 random bits), shows each once in the response that made it,
/// and keeps only its hash. Rotation issues a new secret and lets the previous ones work for an overlap, so a client
/// can be redeployed with the new one before the old one stops working.
/// </summary>
public static class ClientResources
{
    public static readonly TimeSpan DefaultOverlap = TimeSpan.FromDays(1);
    public static readonly TimeSpan MaxOverlap = TimeSpan.FromDays(30);

    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/clients/{id}/secrets", (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => RotateAsync(http, caller, id)))
            .WithName("rotate-client-secret").WithTags("clients")
            .WithSummary("Issue a new client secret (shown once); earlier secrets keep working for the overlap (?overlap=d.hh:mm:ss, default one day)")
            .Produces<JsonObject>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapDelete("/clients/{id}/secrets/{secretId}", (HttpContext http, string id, string secretId) => AdminEndpoints.RunAsync(http, caller => RevokeAsync(http, caller, id, secretId)))
            .WithName("revoke-client-secret").WithTags("clients").WithSummary("Stop one of a client's secrets from working at once")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// The secrets a client keeps or gets: a confidential client without a key set gets a new secret when it has none
    /// (<paramref name="issued"/> holds it, to show once); a public client, or one authenticating with its key set, has none.
    /// </summary>
    public static IReadOnlyList<ClientSecretHash> SecretsFor(ResourceType type, object options, ManagedResource? before, DateTime now, out string[] issued)
    {
        issued = [];
        if (type.Kind != ManagedKinds.Client)
        {
            return before?.ClientSecrets ?? [];
        }

        var client = (ClientOptions)options;
        if (client.Type != "confidential" || !string.IsNullOrEmpty(client.Jwks))
        {
            return [];
        }

        if (before is { ClientSecrets.Count: > 0 })
        {
            return before.ClientSecrets;
        }

        var secret = ClientSecretHasher.Generate();
        issued = [secret];
        return [NewHash(secret, now)];
    }

    /// <summary>Adds a secret made by this response to it: the only time it is ever shown.</summary>
    public static void ShowOnce(JsonObject rendered, string[] issued)
    {
        if (issued.Length > 0)
        {
            rendered["client_secret"] = issued[0];
        }
    }

    private static async Task<IResult> RotateAsync(HttpContext http, AdminCaller caller, string id)
    {
        if (!caller.IsPlatformAdmin)
        {
            throw new ScopeRequired(AdminCaller.PlatformScope);
        }

        var overlap = DefaultOverlap;
        if (http.Request.Query.TryGetValue("overlap", out var value)
            && (value.Count != 1 || !TimeSpan.TryParseExact(value[0], "c", CultureInfo.InvariantCulture, out overlap) || overlap < TimeSpan.Zero || overlap > MaxOverlap))
        {
            throw AdminProblem.BadRequest($"overlap must be a duration (d.hh:mm:ss) between 0 and {MaxOverlap.Days} days.");
        }

        var secret = ClientSecretHasher.Generate();
        var time = http.RequestServices.GetRequiredService<TimeProvider>();
        var now = time.GetUtcNow().UtcDateTime;
        var hash = NewHash(secret, now);
        var saved = await http.RequestServices.GetRequiredService<ManagedChanges>().SaveAsync(caller.Actor, "rotate secret of", current =>
        {
            var client = ManagedClient(http, current, id);
            if (client.As<ClientOptions>().Type != "confidential" || !string.IsNullOrEmpty(client.As<ClientOptions>().Jwks))
            {
                throw AdminProblem.Conflict($"The client '{ConfigurationResources.Shorten(id)}' does not authenticate with a secret.");
            }

            var until = now + overlap;
            var kept = client.ClientSecrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now)
                .Select(s => s with { ExpiresAt = s.ExpiresAt is { } expires && expires < until ? expires : until });
            return [new ResourceChange(ManagedKinds.Client, id, client with { ClientSecrets = [hash, .. kept] })];
        }, http.RequestAborted);

        http.Response.Headers.CacheControl = "no-store";
        var previous = saved.Find(ManagedKinds.Client, id)!.ClientSecrets.Skip(1).ToList();
        return Results.Json(new JsonObject
        {
            ["id"] = hash.Id,
            ["client_secret"] = secret,
            ["previous"] = new JsonArray([.. previous.Select(p => new JsonObject { ["id"] = p.Id, ["expires_at"] = p.ExpiresAt })]),
        }, contentType: AdminJson.ContentType, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, AdminCaller caller, string id, string secretId)
    {
        if (!caller.IsPlatformAdmin)
        {
            throw new ScopeRequired(AdminCaller.PlatformScope);
        }

        await http.RequestServices.GetRequiredService<ManagedChanges>().SaveAsync(caller.Actor, "revoke a secret of", current =>
        {
            var client = ManagedClient(http, current, id);
            if (client.ClientSecrets.All(s => s.Id != secretId))
            {
                throw AdminProblem.NotFound($"secret '{ConfigurationResources.Shorten(secretId)}' of client '{ConfigurationResources.Shorten(id)}'");
            }

            return [new ResourceChange(ManagedKinds.Client, id, client with { ClientSecrets = [.. client.ClientSecrets.Where(s => s.Id != secretId)] })];
        }, http.RequestAborted);
        return Results.NoContent();
    }

    private static ManagedResource ManagedClient(HttpContext http, ManagedConfiguration current, string id)
    {
        if (http.RequestServices.GetRequiredService<TesseraConfiguration>().Current.File.Clients.Any(c => c.ClientId == id))
        {
            throw AdminProblem.ManagedByFile($"The client '{ConfigurationResources.Shorten(id)}'");
        }

        return current.Find(ManagedKinds.Client, id) ?? throw AdminProblem.NotFound($"client '{ConfigurationResources.Shorten(id)}'");
    }

    private static ClientSecretHash NewHash(string secret, DateTime now) =>
        new("sec-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), ClientSecretHasher.FastHash(secret), now, null);
}
