using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tessera.Telemetry;

/// <summary>
/// <c>/healthz</c> (liveness: the process serves requests) and <c>/readyz</c> (readiness: database reachable, schema
/// migrated, signing keys loaded). Readiness answers 200 or 503 with <c>Retry-After</c>, within
/// <see cref="CheckTimeout"/> even when the database hangs, and names each check in a small JSON body.
/// </summary>
public static class HealthEndpoints
{
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    /// <summary>What a balancer is told to wait before asking again.</summary>
    public const int RetryAfterSeconds = 5;

    private const string Readiness = "ready";

    public static IServiceCollection AddTesseraHealthChecks(this IServiceCollection services)
    {
        string[] tags = [Readiness];
        services.AddHealthChecks()
            .AddCheck<DatabaseReadiness>("database", HealthStatus.Unhealthy, tags, CheckTimeout)
            .AddCheck<MigrationsReadiness>("migrations", HealthStatus.Unhealthy, tags, CheckTimeout)
            .AddCheck<SigningKeysReadiness>("signing_keys", HealthStatus.Unhealthy, tags, CheckTimeout);
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok"));
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Readiness),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteAsync,
        });
        return endpoints;
    }

    /// <summary>
    /// <c>{"status":"ready","checks":{"database":"ok",...}}</c>; a failed check says why in a word or two of Tessera's
    /// own (timed out, unreachable, 2 pending), never an exception's message.
    /// </summary>
    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        var ready = report.Status != HealthStatus.Unhealthy;
        if (!ready)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var checks = report.Entries.ToDictionary(entry => entry.Key, entry => entry.Value.Status switch
        {
            HealthStatus.Healthy => "ok",
            _ when entry.Value.Exception is OperationCanceledException => "timed out",
            _ when entry.Value.Exception is not null => "unreachable",
            _ => entry.Value.Description ?? "failed",
        });
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["status"] = ready ? "ready" : "not_ready",
            ["checks"] = checks,
        }));
    }
}
