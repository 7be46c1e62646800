using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Sessions;
using Tessera.Signals;
using Tessera.Storage;

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
    public static readonly AnomalyAssessment Allowed = new(AnomalyVerdict.Allow, null, []);
}

/// <summary>
/// Anomaly detection at sign-in, and the response: each sign-in's origin is compared with the user's earlier ones by
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
    TimeProvider time)
{
    /// <param name="challenged">This sign-in is the fresh one a challenge asked for: it is let through, and said so.</param>
    public async Task<AnomalyAssessment> AssessSignInAsync(HttpContext http, UserRecord user, Connection connection, bool challenged, CancellationToken cancellationToken)
    {
        var anomaly = configuration.Current.Anomaly;
        var organization = connection.Organization.Options.Anomaly;
        var rules = organization.Rules ?? anomaly.Rules;
        if (rules.Count == 0)
        {
            return AnomalyAssessment.Allowed;
        }

        var origin = locator.Locate(http);
        if (NetworkList.Parse([.. anomaly.ExemptNetworks, .. organization.ExemptNetworks]).Contains(origin.Address))
        {
            return AnomalyAssessment.Allowed; // a VPN's or the office's egress says nothing about where the person is
        }

        var now = time.GetUtcNow();
        var history = await db.RiskObservations.AsNoTracking().Where(o => o.UserId == user.Id)
            .OrderByDescending(o => o.ObservedAt).Take(anomaly.History).ToListAsync(cancellationToken);
        var current = new Observation(now, origin.Address?.ToString(), origin.Location);
        var detections = AnomalyRules.Evaluate(current, history.Select(o => new Observation(
            new DateTimeOffset(o.ObservedAt, TimeSpan.Zero), o.IpAddress, new GeoLocation(o.Country, o.City, o.Latitude, o.Longitude))).ToList(), rules);
        db.RiskObservations.Add(new RiskObservationRecord
        {
            UserId = user.Id,
            OrganizationId = user.OrganizationId,
            ObservedAt = now.UtcDateTime,
            IpAddress = origin.Address?.ToString(),
            Country = origin.Location?.Country,
            City = Bounded(origin.Location?.City),
            Latitude = origin.Location?.Latitude,
            Longitude = origin.Location?.Longitude,
        });
        if (detections.Count == 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            return AnomalyAssessment.Allowed;
        }

        var reference = Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        var action = detections.Select(d => d.Action).MaxBy(AnomalyActions.Severity)!;
        var reason = $"anomaly: {string.Join(", ", detections.Select(d => d.Rule))}";
        if (action != AnomalyActions.Log)
        {
            signals.RiskLevelChange(user, reason, InitiatingEntities.Policy);
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var detection in detections)
        {
            audit.Record(new AuditEvent(AuditEvents.AnomalyDetected, AuditEvent.Failure)
            {
                OrganizationId = user.OrganizationId,
                UserId = user.Id.ToString(),
                ConnectionId = connection.Id,
                IpAddress = origin.Address?.ToString(),
                Reason = $"{detection.Rule}: {detection.Action}" + (challenged && action == AnomalyActions.Challenge ? " (passed: the person signed in again)" : ""),
                Detail = new Dictionary<string, string?>(detection.Evidence)
                {
                    ["rule"] = detection.Rule,
                    ["action"] = detection.Action,
                    ["taken"] = action,
                    ["reference"] = reference,
                },
            });
        }

        switch (action)
        {
            case AnomalyActions.Challenge:
                return challenged ? AnomalyAssessment.Allowed with { Detections = detections } : new AnomalyAssessment(AnomalyVerdict.Challenge, reference, detections);
            case AnomalyActions.Block:
                return new AnomalyAssessment(AnomalyVerdict.Block, reference, detections);
            case AnomalyActions.Revoke:
                var live = await db.Sessions.AsNoTracking().Where(s => s.UserId == user.Id && s.EndedAt == null).Select(s => s.Id).ToListAsync(cancellationToken);
                foreach (var session in live)
                {
                    await revocation.EndSessionAsync(session, reason, InitiatingEntities.Policy, null, cancellationToken);
                }

                return new AnomalyAssessment(AnomalyVerdict.Block, reference, detections);
            case AnomalyActions.Disable:
                await revocation.DisableUserAsync(user.Id, reason, InitiatingEntities.Policy, null, cancellationToken);
                return new AnomalyAssessment(AnomalyVerdict.Block, reference, detections);
            default:
                return AnomalyAssessment.Allowed with { Detections = detections };
        }
    }

    private static string? Bounded(string? value) => value is { Length: > 100 } ? value[..100] : value;
}
