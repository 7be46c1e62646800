using Microsoft.EntityFrameworkCore;
using Tessera.Audit;

namespace Tessera.Admin;

/// <summary>Endpoint metadata: the settings type an endpoint's JSON body is read as, for the OpenAPI document.</summary>
public sealed record AdminRequestBody(Type Type);

/// <summary>
/// The Admin API at <c>/admin/v1</c>: JSON over HTTP, authenticated by Tessera's own access tokens
/// (<see cref="AdminAuthentication"/>), errors as RFC 9457 problem details, described by the OpenAPI document at
/// <c>/admin/v1/openapi.json</c>, which is generated from these endpoints.
/// </summary>
public static class AdminEndpoints
{
    public const string Prefix = "/admin/v1";
    public const string DocumentName = "v1";

    public static IServiceCollection AddTesseraAdmin(this IServiceCollection services)
    {
        services.AddSingleton<AdminAuthentication>();
        services.AddScoped<ManagedChanges>();
        services.AddScoped<SetupLinks>();
        services.AddScoped<PortalSessions>();
        // The Admin API speaks in the file's names (Authority, RedirectUris): the document describes them so.
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = null;
            json.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        });
        services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith(Prefix.TrimStart('/'), StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Tessera Admin API";
                document.Info.Description = "Organizations, connections, rules, SCIM tokens, clients, trusted issuers, exchange policies, signal receivers, users and the audit log. "
                    + "Authenticate with an access token of a Tessera client (client_credentials) carrying the scope tessera:admin, or tessera:admin:org:{organizationId} for one organization.";
                return Task.CompletedTask;
            });

            // Bodies are read by the endpoints themselves (checked as the file is), so their schema is named here.
            options.AddOperationTransformer(async (operation, context, cancellationToken) =>
            {
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<AdminRequestBody>().FirstOrDefault() is { } body)
                {
                    operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
                    {
                        Required = true,
                        Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
                        {
                            [AdminJson.ContentType] = new() { Schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken) },
                        },
                    };
                }
            });
        });
        return services;
    }

    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(Prefix.Replace("v1", "{documentName}", StringComparison.Ordinal) + "/openapi.json");
        var admin = endpoints.MapGroup(Prefix).AddEndpointFilter(AdminAuthentication.FilterAsync);
        ConfigurationResources.Map(admin);
        ClientResources.Map(admin);
        ScimTokenResources.Map(admin);
        SetupLinkResources.Map(admin);
        UserResources.Map(admin);
        AuditResources.Map(admin);
        Credentials.CredentialResources.Map(admin);
        return endpoints;
    }

    /// <summary>
    /// What routing answers by itself under the Admin API (no such endpoint 404, a method it does not have 405, a body
    /// that is not JSON 415) comes as a problem detail too.
    /// </summary>
    public static IApplicationBuilder UseAdminStatusProblems(this IApplicationBuilder app) =>
        app.UseWhen(http => http.Request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase), admin => admin.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var problem = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => AdminProblem.NotFound("such Admin API endpoint"),
                StatusCodes.Status405MethodNotAllowed => new AdminProblem(405, "method_not_allowed", "Method not allowed", $"{http.Request.Method} is not used on this Admin API endpoint."),
                StatusCodes.Status415UnsupportedMediaType => new AdminProblem(415, "unsupported_media_type", "Unsupported media type", "Send the body as application/json."),
                var status => new AdminProblem(status, "error", "The request could not be served", $"The request was answered with status {status}."),
            };
            await problem.ToResult().ExecuteAsync(http);
        }));

    /// <summary>Runs an endpoint for the authenticated caller; refusals become problem details, and refused changes are audited.</summary>
    public static async Task<IResult> RunAsync(HttpContext http, Func<AdminCaller, Task<IResult>> action)
    {
        var caller = AdminAuthentication.Caller(http);
        try
        {
            return await action(caller);
        }
        catch (ScopeRequired required)
        {
            return http.RequestServices.GetRequiredService<AdminAuthentication>().InsufficientScope(http, caller, required.Scope);
        }
        catch (AdminProblem problem)
        {
            if (!HttpMethods.IsGet(http.Request.Method))
            {
                http.RequestServices.GetRequiredService<AuditLog>().Record(new AuditEvent(AuditEvents.AdminRefused, AuditEvent.Failure)
                {
                    ClientId = caller.ClientId,
                    IpAddress = http.Connection.RemoteIpAddress?.ToString(),
                    Reason = $"{problem.Code}: {Bounded(problem.Message)}",
                    Detail = new Dictionary<string, string?> { ["method"] = http.Request.Method, ["path"] = Bounded(http.Request.Path.Value ?? ""), ["status"] = problem.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                });
            }

            return problem.ToResult();
        }
        catch (DbUpdateConcurrencyException)
        {
            return AdminProblem.Conflict("The resource changed while this request was being handled; read it again and repeat the change.").ToResult();
        }
    }

    private static string Bounded(string value) => value.Length > 300 ? value[..300] : value;
}
