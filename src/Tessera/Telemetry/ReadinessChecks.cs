using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Telemetry;

/// <summary>The database answers a trivial query.</summary>
public sealed class DatabaseReadiness(IServiceScopeFactory scopes) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
        ReadinessProbe.RunAsync(scopes, async (db, token) =>
        {
            await db.Database.ExecuteSqlRawAsync("SELECT 1", token);
            return HealthCheckResult.Healthy();
        }, cancellationToken);
}

/// <summary>Every migration this build knows is applied: a node of a newer build waits until its schema is in place.</summary>
public sealed class MigrationsReadiness(IServiceScopeFactory scopes) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
        ReadinessProbe.RunAsync(scopes, async (db, token) =>
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(token)).Count();
            return pending == 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy($"{pending} pending");
        }, cancellationToken);
}

/// <summary>The key ring is loaded and holds a signing key usable now: without one no token can be issued.</summary>
public sealed class SigningKeysReadiness(KeyRing keys) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
        Task.FromResult(!keys.IsLoaded ? HealthCheckResult.Unhealthy("not loaded")
            : keys.VerificationKeys().Any() ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("no usable signing key"));
}

internal static class ReadinessProbe
{
    /// <summary>
    /// Runs a database probe off the caller's thread and stops waiting when the check's timeout fires: SQLite's
    /// "async" calls block, and a probe must answer while the database does not.
    /// </summary>
    public static Task<HealthCheckResult> RunAsync(IServiceScopeFactory scopes, Func<TesseraDbContext, CancellationToken, Task<HealthCheckResult>> probe, CancellationToken cancellationToken) =>
        Task.Run(async () =>
        {
            await using var scope = scopes.CreateAsyncScope();
            return await probe(scope.ServiceProvider.GetRequiredService<TesseraDbContext>(), cancellationToken);
        }, cancellationToken).WaitAsync(cancellationToken);
}
