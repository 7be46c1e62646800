using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Storage;

namespace Tessera.Federation;

/// <summary>
/// What a test sign-in through a connection found: the checks that failed with their hints, and on success what came
/// back (claims or attributes) and what the organization's rules make of it. Nothing else happens: no user, no
/// session, no token. A pass counts for the connection's version it was made on.
/// </summary>
public sealed record ConnectionTestReport(bool Passed, string Protocol)
{
    public IReadOnlyList<UpstreamDiagnosis> Checks { get; init; } = [];
    public string? Subject { get; init; }
    public string? Email { get; init; }
    public bool EmailVerified { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Claims { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    public IReadOnlyList<string> GrantedScopes { get; init; } = [];
    public IReadOnlyDictionary<string, string> GrantedClaims { get; init; } = new Dictionary<string, string>();

    /// <summary>The rules whose conditions held (by id, or position when unnamed).</summary>
    public IReadOnlyList<string> MatchedRules { get; init; } = [];
}

/// <summary>Test sign-ins: started for a connection (active or draft), completed by the broker with the connector's verdict.</summary>
public sealed class ConnectionTestResults(TesseraDbContext db, AuditLog audit, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ConnectionTestRecord> StartAsync(Connection connection, long version, string? portalSessionId, CancellationToken cancellationToken)
    {
        var test = new ConnectionTestRecord
        {
            Id = "test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            OrganizationId = connection.Organization.Id,
            ConnectionId = connection.Id,
            ConnectionVersion = version,
            PortalSessionId = portalSessionId,
            StartedAt = time.GetUtcNow().UtcDateTime,
        };
        db.ConnectionTests.Add(test);
        await db.SaveChangesAsync(cancellationToken);
        return test;
    }

    /// <summary>Records the verdict of a test sign-in (once: a test completes at most once).</summary>
    public async Task<ConnectionTestReport> CompleteAsync(string testId, Connection connection, UpstreamResult result, CancellationToken cancellationToken)
    {
        var checks = ConnectionTestChecks.Evaluate(result, connection.Protocol);
        var report = new ConnectionTestReport(checks.Count == 0, connection.Protocol) { Checks = checks };
        if (result.Identity is { } identity)
        {
            var rules = connection.Organization.Rules;
            var grants = MappingRules.Evaluate(rules, identity.Claims, identity.MappedClaims);
            report = report with
            {
                Subject = identity.Subject,
                Email = identity.Email,
                EmailVerified = identity.EmailVerified,
                Claims = identity.Claims,
                GrantedScopes = grants.Scopes,
                GrantedClaims = grants.Claims,
                MatchedRules = rules.Select((rule, index) => (rule, index)).Where(r => MappingRules.Matches(r.rule, identity.Claims))
                    .Select(r => r.rule.Id ?? $"rule-{r.index + 1}").ToList(),
            };
        }

        var now = time.GetUtcNow().UtcDateTime;
        var text = JsonSerializer.Serialize(report, Json);
        await db.ConnectionTests.Where(t => t.Id == testId && t.CompletedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.CompletedAt, now).SetProperty(t => t.Passed, report.Passed).SetProperty(t => t.Result, text), cancellationToken);
        audit.Record(new AuditEvent(AuditEvents.ConnectionTested, report.Passed ? AuditEvent.Success : AuditEvent.Failure)
        {
            OrganizationId = connection.Organization.Id,
            ConnectionId = connection.Id,
            Reason = report.Passed ? "test sign-in passed" : $"test sign-in failed: {string.Join(", ", checks.Select(c => c.Check))}",
            Detail = new Dictionary<string, string?> { ["test"] = testId },
        });
        return report;
    }

    public Task<ConnectionTestRecord?> FindAsync(string id, CancellationToken cancellationToken) =>
        db.ConnectionTests.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken);

    /// <summary>The newest test of a connection, if any.</summary>
    public Task<ConnectionTestRecord?> LatestAsync(string connectionId, CancellationToken cancellationToken) =>
        db.ConnectionTests.AsNoTracking().Where(t => t.ConnectionId == connectionId).OrderByDescending(t => t.StartedAt).FirstOrDefaultAsync(cancellationToken);

    public static ConnectionTestReport? Report(ConnectionTestRecord test) =>
        test.Result is null ? null : JsonSerializer.Deserialize<ConnectionTestReport>(test.Result, Json);
}
