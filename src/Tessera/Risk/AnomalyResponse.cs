using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Sessions;
using Tessera.Signals;
using Tessera.Storage;
using Tessera.Telemetry;

namespace Tessera.Risk;

/// <summary>What a sign-in may do after the anomaly rules looked at it.</summary>
public enum AnomalyVerdict
{
    Allow,

    /// <summary>Send the person back to their identity provider to sign in afresh (prompt=login, ForceAuthn).</summary>
    Challenge,

    /// <summary>Refuse the sign-in, with a reference for support.</summary>
    Block,
}

public sealed record AnomalyAssessment(AnomalyVerdict Verdict, string? Reference, IReadOnlyList<AnomalyDetection> Detections)
{
    /// <summary>The observation this assessment recorded, if it recorded one.</summary>
    public RiskObservationRecord? Observation { get; init; }

    public static readonly AnomalyAssessment Allowed = new(AnomalyVerdict.Allow, null, []);
}

/// <summary>
/// Anomaly detection at sign-in, refresh and exchange, and the response: each request's origin is compared with the user's earlier ones by
/// the organization's rules (or the global ones), recorded, and every rule that fires is audited with its evidence
/// (both places, countries, distance, speed, addresses, times). The strongest action wins: <c>notify</c> tells the
/// signal receivers (CAEP risk-level-change); <c>challenge</c> asks the identity provider to sign the person in again;
/// <c>block</c> refuses the sign-in; <c>revoke</c> also ends every session of the user and <c>disable</c> disables the
/// account, through the revocation service (so applications and receivers hear of it) with <c>initiating_entity: policy</c>.
/// </summary>
public sealed class AnomalyResponse(
    TesseraDbContext db,
    RequestLocator locator,
    RevocationService revocation,
    SignalOutbox signals,
    TesseraConfiguration configuration,
    AuditLog audit,
    TesseraTelemetry telemetry,
    TimeProvider time)
{
    public const string SignIn = "sign-in";
    public const string Refresh = "refresh";
    public const string Exchange = "exchange";

    /// <summary>
    /// A sign-in, before its session opens. The observation it records is <see cref="AnomalyAssessment.Observation"/>:
    /// the caller names the session it then opens (<see cref="RememberSessionAsync"/>), so tokens of that session can be
    /// compared with where they were issued to.
    /// </summary>
    /// <param name="challenged">This sign-in is the fresh one a challenge asked for: it is let through, and said so.</param>
    public Task<AnomalyAssessment> AssessSignInAsync(HttpContext http, UserRecord user, Connection connection, bool challenged, CancellationToken cancellationToken) =>
        AssessAsync(http, user, connection.Id, sessionId: null, SignIn, challenged, cancellationToken);

    /// <summary>
    /// A refresh or a token exchange for <paramref name="user"/>: the same rules, and a token used from another country
    /// than its session's sign-in. A challenge cannot be answered at the token endpoint: such a request is refused, and
    /// the application's next sign-in is challenged instead.
    /// </summary>
    public async Task<AnomalyAssessment> AssessTokenRequestAsync(HttpContext http, UserRecord user, string? sessionId, string kind, CancellationToken cancellationToken)
    {
        var assessment = await AssessAsync(http, user, connectionId: null, sessionId, kind, challenged: false, cancellationToken);
        return assessment.Verdict == AnomalyVerdict.Challenge ? assessment with { Verdict = AnomalyVerdict.Block } : assessment;
    }

    /// <summary>
    /// Whether any rule looks at the requests of <paramref name="organizationId"/>'s users (no work at all otherwise). Read
    /// from the configuration alone, so a caller that finds no rule applying needs none of a request's anomaly services.
    /// </summary>
    public static bool Applies(TesseraConfiguration configuration, string? organizationId)
    {
        var model = configuration.Current;
        return RulesFor((organizationId is null ? null : model.FindOrganization(organizationId)?.Options.Anomaly) ?? new OrganizationAnomalyOptions(), model.Anomaly).Count > 0;
    }

    /// <summary>The rules that compare a user's requests: the organization's own, or the global ones (failure bursts are counted elsewhere).</summary>
    private static List<AnomalyRuleOptions> RulesFor(OrganizationAnomalyOptions organization, AnomalyOptions anomaly) =>
        (organization.Rules ?? anomaly.Rules).Where(r => r.Rule != AnomalyRuleOptions.FailureBurst).ToList();

    public async Task RememberSessionAsync(AnomalyAssessment assessment, string sessionId, CancellationToken cancellationToken)
    {
        if (assessment.Observation is { } observation)
        {
            observation.SessionId = sessionId;
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private async Task<AnomalyAssessment> AssessAsync(HttpContext http, UserRecord user, string? connectionId, string? sessionId, string kind, bool challenged, CancellationToken cancellationToken)
    {
        var model = configuration.Current;
        var anomaly = model.Anomaly;
        var organization = model.FindOrganization(user.OrganizationId)?.Options.Anomaly ?? new OrganizationAnomalyOptions();
        var rules = RulesFor(organization, anomaly);
        if (rules.Count == 0)
        {
            return AnomalyAssessment.Allowed;
        }

        // Only where a rule applies: the span covers the history read and, when something fires, the action's work.
        using var span = TesseraTelemetry.Start(TesseraTelemetry.Spans.AnomalyEvaluate);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(TesseraTelemetry.Tags.Organization, user.OrganizationId);
            span.SetTag(TesseraTelemetry.Tags.Connection, connectionId);
            span.SetTag(TesseraTelemetry.Tags.AnomalyRequest, kind);
        }

        var origin = locator.Locate(http);
        if (NetworkList.Parse([.. anomaly.ExemptNetworks, .. organization.ExemptNetworks]).Contains(origin.Address))
        {
            span?.SetTag(TesseraTelemetry.Tags.AnomalyDetections, 0);
            return AnomalyAssessment.Allowed; // a VPN's or the office's egress says nothing about where the person is
        }

        var now = time.GetUtcNow();
        var history = await db.RiskObservations.AsNoTracking().Where(o => o.UserId == user.Id)
            .OrderByDescending(o => o.ObservedAt).Take(anomaly.History).ToListAsync(cancellationToken);
        var issuedTo = sessionId is null ? null
            : await db.RiskObservations.AsNoTracking().Where(o => o.SessionId == sessionId && o.Kind == SignIn).FirstOrDefaultAsync(cancellationToken);
        var current = new Observation(now, origin.Address?.ToString(), origin.Location);
        var detections = AnomalyRules.Evaluate(current, history.Select(ToObservation).ToList(), rules, issuedTo is null ? null : ToObservation(issuedTo));
        var observation = new RiskObservationRecord
        {
            UserId = user.Id,
            OrganizationId = user.OrganizationId,
            Kind = kind,
            SessionId = sessionId,
            ObservedAt = now.UtcDateTime,
            IpAddress = origin.Address?.ToString(),
            Country = origin.Location?.Country,
            City = Bounded(origin.Location?.City),
            Latitude = origin.Location?.Latitude,
            Longitude = origin.Location?.Longitude,
        };
        span?.SetTag(TesseraTelemetry.Tags.AnomalyDetections, detections.Count);
        if (detections.Count == 0)
        {
            db.RiskObservations.Add(observation);
            await db.SaveChangesAsync(cancellationToken);
            return AnomalyAssessment.Allowed with { Observation = observation };
        }

        var reference = Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        var action = detections.Select(d => d.Action).MaxBy(AnomalyActions.Severity)!;
        span?.SetTag(TesseraTelemetry.Tags.Action, action);
        var reason = $"anomaly: {string.Join(", ", detections.Select(d => d.Rule))}";
        if (action != AnomalyActions.Log)
        {
            signals.RiskLevelChange(user, reason, InitiatingEntities.Policy);
        }

        // Only what is let through becomes history: a refused attempt from elsewhere must not make the owner's next
        // request from home look like a second country.
        var letThrough = AnomalyActions.Severity(action) < AnomalyActions.Severity(AnomalyActions.Challenge) || (action == AnomalyActions.Challenge && challenged);
        if (letThrough)
        {
            db.RiskObservations.Add(observation);
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var detection in detections)
        {
            audit.Record(new AuditEvent(AuditEvents.AnomalyDetected, AuditEvent.Failure)
            {
                OrganizationId = user.OrganizationId,
                UserId = user.Id.ToString(),
                ConnectionId = connectionId,
                IpAddress = origin.Address?.ToString(),
                Reason = $"{detection.Rule}: {detection.Action}" + (challenged && action == AnomalyActions.Challenge ? " (passed: the person signed in again)" : ""),
                Detail = new Dictionary<string, string?>(detection.Evidence)
                {
                    ["rule"] = detection.Rule,
                    ["action"] = detection.Action,
                    ["taken"] = action,
                    ["request"] = kind,
                    ["sid"] = sessionId,
                    ["reference"] = reference,
                },
            });
            telemetry.Anomaly(detection.Rule, detection.Action);
        }

        var assessed = new AnomalyAssessment(AnomalyVerdict.Block, reference, detections) { Observation = letThrough ? observation : null };
        switch (action)
        {
            case AnomalyActions.Challenge:
                return challenged ? assessed with { Verdict = AnomalyVerdict.Allow } : assessed with { Verdict = AnomalyVerdict.Challenge };
            case AnomalyActions.Block:
                return assessed;
            case AnomalyActions.Revoke:
                var live = await db.Sessions.AsNoTracking().Where(s => s.UserId == user.Id && s.EndedAt == null).Select(s => s.Id).ToListAsync(cancellationToken);
                foreach (var session in live)
                {
                    await revocation.EndSessionAsync(session, reason, InitiatingEntities.Policy, null, cancellationToken);
                }

                return assessed;
            case AnomalyActions.Disable:
                await revocation.DisableUserAsync(user.Id, reason, InitiatingEntities.Policy, null, cancellationToken);
                return assessed;
            default:
                return assessed with { Verdict = AnomalyVerdict.Allow };
        }
    }

    private static Observation ToObservation(RiskObservationRecord o) =>
        new(new DateTimeOffset(o.ObservedAt, TimeSpan.Zero), o.IpAddress, new GeoLocation(o.Country, o.City, o.Latitude, o.Longitude));

    private static string? Bounded(string? value) => value is { Length: > 100 } ? value[..100] : value;
}
