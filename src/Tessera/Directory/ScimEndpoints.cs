using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Audit;
using Tessera.Hosting;

namespace Tessera.Directory;

/// <summary>
/// Each organization's SCIM 2.0 service at <c>/scim/v2/{organization}</c> (RFC 7644): Users, Groups and the three
/// discovery endpoints. Every request needs a bearer token of that organization; a token of another organization
/// gets 404, as an unknown organization does, so nothing tells one directory's client about another's.
/// </summary>
public static class ScimEndpoints
{
    public const string ContentType = "application/scim+json";
    private const string OrganizationItem = "tessera.scim.organization";

    public static IEndpointRouteBuilder MapScim(this IEndpointRouteBuilder endpoints)
    {
        var scim = endpoints.MapGroup("/scim/v2/{organization}").AddEndpointFilter(AuthenticateAsync);

        scim.MapGet("/ServiceProviderConfig", (HttpContext http) => Json(ScimDiscovery.ServiceProviderConfig(BaseUrl(http))));
        scim.MapGet("/ResourceTypes", (HttpContext http) =>
            Json(ScimRender.List(ScimSchemas.ResourceTypes.Select(t => ScimDiscovery.ResourceType(t, BaseUrl(http))), ScimSchemas.ResourceTypes.Count, 1)));
        scim.MapGet("/ResourceTypes/{name}", (HttpContext http, string name) =>
            ScimSchemas.ResourceTypes.FirstOrDefault(t => t.Name == name) is { } type
                ? Json(ScimDiscovery.ResourceType(type, BaseUrl(http)))
                : Error(ScimException.NotFound($"No resource type '{ScimDocument.Shorten(name)}'.")));
        scim.MapGet("/Schemas", (HttpContext http) =>
            Json(ScimRender.List(ScimSchemas.All.Select(s => ScimDiscovery.Schema(s, BaseUrl(http))), ScimSchemas.All.Count, 1)));
        scim.MapGet("/Schemas/{id}", (HttpContext http, string id) =>
            ScimSchemas.All.FirstOrDefault(s => s.Id == id) is { } schema
                ? Json(ScimDiscovery.Schema(schema, BaseUrl(http)))
                : Error(ScimException.NotFound($"No schema '{ScimDocument.Shorten(id)}'.")));

        scim.MapGet("/Users", (HttpContext http, ScimLists lists) =>
            RunAsync(http, async () => Json(await lists.UsersAsync(Organization(http), ScimListRequest.From(http.Request.Query, ScimSchemas.UserType), BaseUrl(http), http.RequestAborted))));
        scim.MapPost("/Users", (HttpContext http, ScimUsers users) => RunAsync(http, async () =>
        {
            var user = await users.CreateAsync(Organization(http), await BodyAsync(http), Context(http), http.RequestAborted);
            return Created(http, ScimRender.User(user, BaseUrl(http)), user.Record.Version);
        }));
        scim.MapGet("/Users/{id}", (HttpContext http, string id, ScimUsers users) => RunAsync(http, async () =>
        {
            var user = await users.GetAsync(Organization(http), id, http.RequestAborted);
            return Resource(http, ScimSchemas.UserType, ScimRender.User(user, BaseUrl(http)), user.Record.Version);
        }));
        scim.MapPut("/Users/{id}", (HttpContext http, string id, ScimUsers users) => RunAsync(http, async () =>
        {
            var user = await users.ReplaceAsync(Organization(http), id, await BodyAsync(http), IfMatch(http), Context(http), http.RequestAborted);
            return Resource(http, ScimSchemas.UserType, ScimRender.User(user, BaseUrl(http)), user.Record.Version);
        }));
        scim.MapPatch("/Users/{id}", (HttpContext http, string id, ScimUsers users) => RunAsync(http, async () =>
        {
            var user = await users.PatchAsync(Organization(http), id, await BodyAsync(http), IfMatch(http), Context(http), http.RequestAborted);
            return Resource(http, ScimSchemas.UserType, ScimRender.User(user, BaseUrl(http)), user.Record.Version);
        }));
        scim.MapDelete("/Users/{id}", (HttpContext http, string id, ScimUsers users) => RunAsync(http, async () =>
        {
            await users.DeleteAsync(Organization(http), id, IfMatch(http), Context(http), http.RequestAborted);
            return Results.NoContent();
        }));

        scim.MapGet("/Groups", (HttpContext http, ScimLists lists) =>
            RunAsync(http, async () => Json(await lists.GroupsAsync(Organization(http), ScimListRequest.From(http.Request.Query, ScimSchemas.GroupType), BaseUrl(http), http.RequestAborted))));
        scim.MapPost("/Groups", (HttpContext http, ScimGroups groups) => RunAsync(http, async () =>
        {
            var group = await groups.CreateAsync(Organization(http), await BodyAsync(http), Context(http), http.RequestAborted);
            group = await groups.GetAsync(Organization(http), group.Record.Id.ToString(), withMembers: true, http.RequestAborted);
            return Created(http, ScimRender.Group(group, BaseUrl(http)), group.Record.Version);
        }));
        scim.MapGet("/Groups/{id}", (HttpContext http, string id, ScimGroups groups) => RunAsync(http, async () =>
        {
            var group = await groups.GetAsync(Organization(http), id, WantsMembers(http), http.RequestAborted);
            return Resource(http, ScimSchemas.GroupType, ScimRender.Group(group, BaseUrl(http)), group.Record.Version);
        }));
        scim.MapPut("/Groups/{id}", (HttpContext http, string id, ScimGroups groups) => RunAsync(http, async () =>
        {
            await groups.ReplaceAsync(Organization(http), id, await BodyAsync(http), IfMatch(http), Context(http), http.RequestAborted);
            var group = await groups.GetAsync(Organization(http), id, WantsMembers(http), http.RequestAborted);
            return Resource(http, ScimSchemas.GroupType, ScimRender.Group(group, BaseUrl(http)), group.Record.Version);
        }));
        scim.MapPatch("/Groups/{id}", (HttpContext http, string id, ScimGroups groups) => RunAsync(http, async () =>
        {
            var changed = await groups.PatchAsync(Organization(http), id, await BodyAsync(http), IfMatch(http), Context(http), http.RequestAborted);
            if (!http.Request.Query.ContainsKey("attributes") && !http.Request.Query.ContainsKey("excludedAttributes"))
            {
                // RFC 7644 §3.5.2: 204 when the client did not ask for the resource back; a group's member list can be long.
                http.Response.Headers.ETag = ScimETag.Format(changed.Record.Version);
                return Results.NoContent();
            }

            var group = await groups.GetAsync(Organization(http), id, WantsMembers(http), http.RequestAborted);
            return Resource(http, ScimSchemas.GroupType, ScimRender.Group(group, BaseUrl(http)), group.Record.Version);
        }));
        scim.MapDelete("/Groups/{id}", (HttpContext http, string id, ScimGroups groups) => RunAsync(http, async () =>
        {
            await groups.DeleteAsync(Organization(http), id, IfMatch(http), Context(http), http.RequestAborted);
            return Results.NoContent();
        }));

        // Anything else under the service (a resource type Tessera does not have, /Bulk, /Me) is the SCIM 404.
        scim.Map("/{**rest}", () => Error(ScimException.NotFound("No such SCIM endpoint here.")));
        return endpoints;
    }

    private static async ValueTask<object?> AuthenticateAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var organizationId = http.GetRouteValue("organization") as string ?? "";
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        var owner = await http.RequestServices.GetRequiredService<ScimTokens>().AuthenticateAsync(token, http.RequestAborted);
        if (owner is null)
        {
            Audit(http, organizationId, 401, "the bearer token is missing, unknown or revoked");
            http.RequestServices.GetRequiredService<Risk.FailureBursts>().Failed(http, Risk.FailureKind.Scim);
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"scim\"";
            return Error(new ScimException(401, null, "A valid SCIM bearer token of this organization is required."));
        }

        var configured = http.RequestServices.GetRequiredService<TesseraConfiguration>().Current.FindOrganization(organizationId) is not null;
        if (!string.Equals(owner, organizationId, StringComparison.Ordinal) || !configured)
        {
            Audit(http, owner, 404, $"a token of '{owner}' was used on the directory of '{ScimDocument.Shorten(organizationId)}'");
            return Error(ScimException.NotFound("No such SCIM service."));
        }

        http.Items[OrganizationItem] = owner;
        return await next(invocation);
    }

    private static async Task<IResult> RunAsync(HttpContext http, Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (ScimException exception)
        {
            if (!HttpMethods.IsGet(http.Request.Method))
            {
                Audit(http, Organization(http), exception.Status, $"{exception.ScimType ?? exception.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)}: {exception.Message}");
            }

            return Error(exception);
        }
        catch (ScimFilterException exception)
        {
            return Error(ScimException.InvalidFilter(exception.Message));
        }
    }

    /// <summary>The request body as a JSON object, bounded in size; anything else is invalidSyntax and changes nothing.</summary>
    private static async Task<JsonObject> BodyAsync(HttpContext http)
    {
        var limit = http.RequestServices.GetRequiredService<RequestLimitOptions>().MaxBodyBytes.Scim;
        var body = await BoundedRequestBody.ReadAsync(http.Request, limit)
            ?? throw new ScimException(413, null, $"The request body is larger than {limit} bytes.");

        try
        {
            return JsonNode.Parse(body, new JsonNodeOptions { PropertyNameCaseInsensitive = false }, new JsonDocumentOptions { MaxDepth = 32 }) as JsonObject
                ?? throw ScimException.InvalidSyntax("The request body must be a JSON object.");
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
            throw ScimException.InvalidSyntax("The request body is not valid JSON.");
        }
    }

    private static string Organization(HttpContext http) => (string)http.Items[OrganizationItem]!;

    private static string BaseUrl(HttpContext http) =>
        http.RequestServices.GetRequiredService<TesseraIssuer>().Url("/scim/v2/" + Uri.EscapeDataString(Organization(http)));

    private static string? IfMatch(HttpContext http) => http.Request.Headers.IfMatch.ToString() is { Length: > 0 } value ? value : null;

    private static bool WantsMembers(HttpContext http)
    {
        var projection = ScimProjection.Parse(ScimSchemas.GroupType, http.Request.Query["attributes"], http.Request.Query["excludedAttributes"]);
        return projection.Includes(ScimSchemas.GroupType, "members");
    }

    private static AuditEvent Context(HttpContext http) => new(AuditEvents.ScimRefused, AuditEvent.Success)
    {
        IpAddress = http.Connection.RemoteIpAddress?.ToString(),
        UserAgent = http.Request.Headers.UserAgent.ToString(),
    };

    private static void Audit(HttpContext http, string organizationId, int status, string reason) =>
        http.RequestServices.GetRequiredService<AuditLog>().Record(Context(http) with
        {
            Event = AuditEvents.ScimRefused,
            Outcome = AuditEvent.Failure,
            OrganizationId = organizationId,
            Reason = reason,
            Detail = new Dictionary<string, string?>
            {
                ["method"] = http.Request.Method,
                ["path"] = http.Request.Path.Value,
                ["status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        });

    private static IResult Resource(HttpContext http, ScimResourceType type, JsonObject resource, long version)
    {
        var etag = ScimETag.Format(version);
        http.Response.Headers.ETag = etag;
        if (HttpMethods.IsGet(http.Request.Method) && http.Request.Headers.IfNoneMatch.ToString() is { Length: > 0 } none && ScimETag.Matches(none, version))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        var projection = ScimProjection.Parse(type, http.Request.Query["attributes"], http.Request.Query["excludedAttributes"]);
        return Json(projection.Apply(type, resource));
    }

    private static IResult Created(HttpContext http, JsonObject resource, long version)
    {
        http.Response.Headers.ETag = ScimETag.Format(version);
        http.Response.Headers.Location = resource["meta"]!["location"]!.GetValue<string>();
        return Json(resource, StatusCodes.Status201Created);
    }

    private static IResult Json(JsonObject body, int status = StatusCodes.Status200OK) =>
        Results.Text(body.ToJsonString(), ContentType, System.Text.Encoding.UTF8, status);

    private static IResult Error(ScimException exception) =>
        Json(ScimRender.Error(exception.Status, exception.ScimType, exception.Message), exception.Status);
}
