using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Hosting;

namespace Tessera.Admin;

/// <summary>
/// List, get, create, replace and delete for every configuration resource (<see cref="ResourceType.All"/>).
/// Resources declared in the file are shown with <c>"source": "file"</c> and cannot be changed here (409); managed
/// ones live in the database, carry a version (ETag; a stale If-Match answers 412), and every change is compiled with
/// the rest of the configuration before it is stored.
/// </summary>
public static class ConfigurationResources
{
    public static void Map(RouteGroupBuilder admin)
    {
        foreach (var type in ResourceType.All)
        {
            var collection = type.UnderOrganization ? $"/organizations/{{organizationId}}/{type.Route}" : $"/{type.Route}";
            var item = collection + "/{id}";
            var tag = type.UnderOrganization ? $"organizations/{type.Route}" : type.Route;
            var bodyType = ManagedKinds.OptionsType(type.Kind);

            admin.MapGet(collection, Task<IResult> (HttpContext http) => AdminEndpoints.RunAsync(http, caller => Task.FromResult(List(http, caller, type))))
                .WithName($"list-{type.Route}").WithTags(tag).WithSummary($"List {type.Noun} resources, the file's and the managed ones")
                .Produces<JsonObject>(StatusCodes.Status200OK);
            admin.MapGet(item, (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => Task.FromResult(Get(http, caller, type, id))))
                .WithName($"get-{type.Route}").WithTags(tag).WithSummary($"Get one {type.Noun}")
                .Produces(StatusCodes.Status200OK, bodyType).ProducesProblem(StatusCodes.Status404NotFound);
            admin.MapPost(collection, Task<IResult> (HttpContext http) => AdminEndpoints.RunAsync(http, caller => CreateAsync(http, caller, type)))
                .WithName($"create-{type.Route}").WithTags(tag).WithSummary($"Create a managed {type.Noun}")
                .WithMetadata(new AdminRequestBody(bodyType)).Produces(StatusCodes.Status201Created, bodyType)
                .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
            admin.MapPut(item, (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => ReplaceAsync(http, caller, type, id)))
                .WithName($"replace-{type.Route}").WithTags(tag).WithSummary($"Replace a managed {type.Noun} (If-Match for optimistic concurrency)")
                .WithMetadata(new AdminRequestBody(bodyType)).Produces(StatusCodes.Status200OK, bodyType)
                .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
            admin.MapDelete(item, (HttpContext http, string id) => AdminEndpoints.RunAsync(http, caller => DeleteAsync(http, caller, type, id)))
                .WithName($"delete-{type.Route}").WithTags(tag).WithSummary($"Delete a managed {type.Noun}")
                .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        }
    }

    private static IResult List(HttpContext http, AdminCaller caller, ResourceType type)
    {
        var model = Model(http);
        var organization = Authorize(http, caller, type, id: null, write: false);
        var items = new JsonArray();
        foreach (var (id, options) in type.FileItems(model.File, organization))
        {
            if (Visible(caller, type, id))
            {
                items.Add(AdminJson.Render(type.Kind, options, FileView(type, organization)));
            }
        }

        foreach (var resource in model.Managed.OfKind(type.Kind).Where(r => !type.UnderOrganization || r.OrganizationId == organization))
        {
            if (Visible(caller, type, resource.Id))
            {
                items.Add(AdminJson.Render(type.Kind, resource.Options, ManagedView(model, type, resource)));
            }
        }

        return Results.Json(new JsonObject { ["items"] = items }, contentType: AdminJson.ContentType);
    }

    private static IResult Get(HttpContext http, AdminCaller caller, ResourceType type, string id)
    {
        var model = Model(http);
        var organization = Authorize(http, caller, type, id, write: false);
        var (options, view) = Find(model, type, organization, id) ?? throw AdminProblem.NotFound($"{type.Noun} '{Shorten(id)}'");
        http.Response.Headers.ETag = AdminJson.ETag(view, options);
        return Results.Json(AdminJson.Render(type.Kind, options, view), contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, AdminCaller caller, ResourceType type)
    {
        var organization = Authorize(http, caller, type, id: null, write: true);
        var body = await AdminJson.ReadObjectAsync(http);
        var options = type.Parse(body);
        RefuseNewRuleControlledScopes(http, caller, options, replacing: null);
        var id = type.GetId(options);
        if (string.IsNullOrEmpty(id))
        {
            if (type.GeneratedIdPrefix is null)
            {
                throw AdminProblem.Invalid([new ConfigurationError(type == ResourceType.Client ? "$.ClientId" : "$.Id", "is required")]);
            }

            id = type.GeneratedIdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            type.SetId(options, id);
        }

        var status = Status(type, body, ManagedKinds.Active);
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var secrets = ClientResources.SecretsFor(type, options, before: null, now, out var issued);
        var saved = await http.RequestServices.GetRequiredService<ManagedChanges>().SaveAsync(caller.Actor, "create", current =>
        {
            var file = Model(http).File;
            if (Exists(file, current, type, id))
            {
                throw new AdminProblem(StatusCodes.Status409Conflict, "already_exists", "Already exists", $"A {type.Noun} '{Shorten(id)}' already exists.");
            }

            if (organization is not null && !OrganizationExists(file, current, organization))
            {
                throw AdminProblem.NotFound($"organization '{Shorten(organization)}'");
            }

            return [new ResourceChange(type.Kind, id, new ManagedResource(type.Kind, id, organization, options, status, 0) { ClientSecrets = secrets })];
        }, http.RequestAborted);

        var resource = saved.Find(type.Kind, id)!;
        var view = ManagedView(Model(http), type, resource);
        var rendered = AdminJson.Render(type.Kind, resource.Options, view);
        ClientResources.ShowOnce(rendered, issued);
        http.Response.Headers.ETag = AdminJson.ETag(view, resource.Options);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Created($"{http.Request.PathBase}{http.Request.Path.Value!.TrimEnd('/')}/{Uri.EscapeDataString(id)}", rendered);
    }

    private static async Task<IResult> ReplaceAsync(HttpContext http, AdminCaller caller, ResourceType type, string id)
    {
        var organization = Authorize(http, caller, type, id, write: true);
        var body = await AdminJson.ReadObjectAsync(http);
        var options = type.Parse(body);
        if (type.GetId(options) is { Length: > 0 } named && named != id)
        {
            throw AdminProblem.Invalid([new ConfigurationError(type == ResourceType.Client ? "$.ClientId" : "$.Id", $"must be '{Shorten(id)}', the id in the path: ids do not change")]);
        }

        type.SetId(options, id);
        RefuseNewRuleControlledScopes(http, caller, options, replacing: id);
        var requestedStatus = type.HasStatus ? AdminJson.Metadata(body, "status") : null;
        string[] issued = [];
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var saved = await http.RequestServices.GetRequiredService<ManagedChanges>().SaveAsync(caller.Actor, "replace", current =>
        {
            var before = Existing(http, current, type, organization, id);
            KeepSecrets(type.Kind, before.Options, options);
            KeepPlatformSettings(caller, before.Options, options);
            var status = requestedStatus is null ? before.Status : Status(type, body, before.Status);
            var secrets = ClientResources.SecretsFor(type, options, before, now, out issued);
            return [new ResourceChange(type.Kind, id, before with { Options = options, Status = status, ClientSecrets = secrets })];
        }, http.RequestAborted);

        var resource = saved.Find(type.Kind, id)!;
        var view = ManagedView(Model(http), type, resource);
        var rendered = AdminJson.Render(type.Kind, resource.Options, view);
        ClientResources.ShowOnce(rendered, issued);
        http.Response.Headers.ETag = AdminJson.ETag(view, resource.Options);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(rendered, contentType: AdminJson.ContentType);
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, AdminCaller caller, ResourceType type, string id)
    {
        var organization = Authorize(http, caller, type, id, write: true);
        await http.RequestServices.GetRequiredService<ManagedChanges>().SaveAsync(caller.Actor, "delete", current =>
        {
            var before = Existing(http, current, type, organization, id);
            var changes = new List<ResourceChange> { new(type.Kind, id, null) };
            if (type == ResourceType.Organization)
            {
                // An organization goes with its connections and rules.
                changes.AddRange(current.Resources.Where(r => r.OrganizationId == before.Id && r.Kind is ManagedKinds.Connection or ManagedKinds.Rule)
                    .Select(r => new ResourceChange(r.Kind, r.Id, null)));
            }

            return changes;
        }, http.RequestAborted);

        if (type == ResourceType.Organization)
        {
            await ScimTokenResources.RevokeAllAsync(http, id);
        }

        return Results.NoContent();
    }

    /// <summary>
    /// The managed resource a replace or delete is about, checked against the If-Match precondition; a resource of the
    /// file is refused (409) and an absent one is 404.
    /// </summary>
    private static ManagedResource Existing(HttpContext http, ManagedConfiguration current, ResourceType type, string? organization, string id)
    {
        var file = Model(http).File;
        if (type.FileItems(file, organization).Any(i => i.Id == id))
        {
            throw AdminProblem.ManagedByFile($"The {type.Noun} '{Shorten(id)}'");
        }

        var before = current.Find(type.Kind, id);
        if (before is null || (type.UnderOrganization && before.OrganizationId != organization))
        {
            throw AdminProblem.NotFound($"{type.Noun} '{Shorten(id)}'");
        }

        if (!AdminJson.IfMatch(http.Request, AdminJson.ETag(ManagedView(Model(http), type, before), before.Options)))
        {
            throw AdminProblem.StaleVersion($"The {type.Noun} '{Shorten(id)}'");
        }

        return before;
    }

    /// <summary>
    /// A scope some rule grants is issued only to users a rule grants it to, in every organization. So only a platform
    /// admin may make a scope rule-controlled: an organization's admin would otherwise take it from everyone else's
    /// users. An organization's rules may grant scopes that are rule-controlled already.
    /// </summary>
    private static void RefuseNewRuleControlledScopes(HttpContext http, AdminCaller caller, object options, string? replacing)
    {
        if (caller.IsPlatformAdmin || options is not RuleOptions rule)
        {
            return;
        }

        var model = Model(http);
        var controlled = model.Organizations.SelectMany(o => o.Rules)
            .Where(r => replacing is null || r.Id != replacing)
            .SelectMany(r => r.Grant.Scopes).ToHashSet(StringComparer.Ordinal);
        var errors = rule.Grant.Scopes.Select((scope, index) => (scope, index)).Where(s => !controlled.Contains(s.scope))
            .Select(s => new ConfigurationError($"$.Grant.Scopes[{s.index}]",
                $"'{Shorten(s.scope)}' is not granted by any rule yet; making a scope rule-controlled changes it for every organization, so only a platform admin (tessera:admin) can"))
            .ToList();
        if (errors.Count > 0)
        {
            throw AdminProblem.Invalid(errors);
        }
    }

    /// <summary>
    /// An organization's anomaly rules are the platform's policy for it: its own admin may send them back unchanged (or
    /// leave them out, which keeps them) but not change them.
    /// </summary>
    private static void KeepPlatformSettings(AdminCaller caller, object before, object after)
    {
        if (caller.IsPlatformAdmin || before is not OrganizationOptions old || after is not OrganizationOptions changed)
        {
            return;
        }

        static string Json(OrganizationAnomalyOptions anomaly) => System.Text.Json.JsonSerializer.Serialize(anomaly, ManagedResourceCodec.Json);
        if (Json(changed.Anomaly) == Json(new OrganizationAnomalyOptions()))
        {
            changed.Anomaly = old.Anomaly;
        }
        else if (Json(changed.Anomaly) != Json(old.Anomaly))
        {
            throw AdminProblem.Invalid([new ConfigurationError("$.Anomaly", "an organization's anomaly rules are set by a platform admin (tessera:admin)")]);
        }
    }

    /// <summary>A secret left out of a replacement keeps its value: responses never show secrets, so a read-change-write round trip cannot send them.</summary>
    private static void KeepSecrets(string kind, object before, object after)
    {
        foreach (var field in ManagedResourceCodec.SecretFields(kind))
        {
            var property = after.GetType().GetProperty(field)!;
            if (string.IsNullOrEmpty(property.GetValue(after) as string))
            {
                property.SetValue(after, property.GetValue(before));
            }
        }
    }

    private static string Status(ResourceType type, JsonElement body, string fallback)
    {
        if (!type.HasStatus)
        {
            return ManagedKinds.Active;
        }

        var status = AdminJson.Metadata(body, "status") ?? fallback;
        return status is ManagedKinds.Active or ManagedKinds.Draft
            ? status
            : throw AdminProblem.Invalid([new ConfigurationError("$.status", "must be 'active' or 'draft'")]);
    }

    /// <summary>Checks the caller's scope for this kind (and organization); answers with the organization in the path, if any.</summary>
    private static string? Authorize(HttpContext http, AdminCaller caller, ResourceType type, string? id, bool write)
    {
        var organization = type.UnderOrganization ? http.GetRouteValue("organizationId") as string : type == ResourceType.Organization ? id : null;
        var needsPlatform = type.PlatformResource || (type.PlatformOnly && write && (id is null || http.Request.Method == HttpMethods.Delete));
        if (needsPlatform && !caller.IsPlatformAdmin)
        {
            throw new ScopeRequired(AdminCaller.PlatformScope);
        }

        if (organization is not null && !caller.CanManage(organization))
        {
            throw new ScopeRequired(AdminCaller.OrganizationScope(organization));
        }

        if (type.UnderOrganization && !OrganizationExists(Model(http).File, Model(http).Managed, organization!))
        {
            throw AdminProblem.NotFound($"organization '{Shorten(organization!)}'");
        }

        return type.UnderOrganization ? organization : null;
    }

    private static bool Visible(AdminCaller caller, ResourceType type, string id) =>
        type != ResourceType.Organization || caller.CanManage(id);

    private static (object Options, ResourceView View)? Find(TesseraModel model, ResourceType type, string? organization, string id)
    {
        foreach (var (itemId, options) in type.FileItems(model.File, organization))
        {
            if (itemId == id)
            {
                return (options, FileView(type, organization));
            }
        }

        return model.Managed.Find(type.Kind, id) is { } resource && (!type.UnderOrganization || resource.OrganizationId == organization)
            ? (resource.Options, ManagedView(model, type, resource))
            : null;
    }

    private static bool Exists(TesseraOptions file, ManagedConfiguration current, ResourceType type, string id) =>
        current.Find(type.Kind, id) is not null
        || (type.UnderOrganization
            ? file.Organizations.Any(o => type.FileItems(file, o.Id).Any(i => i.Id == id))
            : type.FileItems(file, null).Any(i => i.Id == id));

    public static bool OrganizationExists(TesseraOptions file, ManagedConfiguration current, string organization) =>
        file.Organizations.Any(o => o.Id == organization) || current.Find(ManagedKinds.Organization, organization) is not null;

    private static ResourceView FileView(ResourceType type, string? organization) => new(ResourceView.File)
    {
        OrganizationId = organization,
        Status = type.HasStatus ? ManagedKinds.Active : null,
        Omit = type.Omit,
    };

    public static ResourceView ManagedView(TesseraModel model, ResourceType type, ManagedResource resource) => new(ResourceView.Managed)
    {
        OrganizationId = resource.OrganizationId,
        Version = resource.Version,
        Status = type.HasStatus ? resource.Status : null,
        SecretsSet = ManagedResourceCodec.SecretFields(type.Kind)
            .Where(f => type.Kind == ManagedKinds.Client ? resource.ClientSecrets.Count > 0 : resource.Options.GetType().GetProperty(f)!.GetValue(resource.Options) is string { Length: > 0 })
            .ToList(),
        Problems = model.Problems.FirstOrDefault(p => p.Kind == resource.Kind && p.Id == resource.Id)?.Errors ?? [],
        ClientSecrets = resource.ClientSecrets,
        Omit = type.Omit,
    };

    private static TesseraModel Model(HttpContext http) => http.RequestServices.GetRequiredService<TesseraConfiguration>().Current;

    public static string Shorten(string value) => value.Length > 100 ? value[..100] + "…" : value;
}

/// <summary>The caller's token lacks the scope this request needs: 403 with <c>insufficient_scope</c>.</summary>
public sealed class ScopeRequired(string scope) : Exception($"The scope {scope} is required.")
{
    public string Scope { get; } = scope;
}
