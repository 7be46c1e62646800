using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// How an audit row reads as an OCSF 1.x event. Sign-ins and sign-outs are Authentication (3002: Logon, Logoff), an
/// account disabled or enabled is Account Change (3001: Disable, Enable), and everything else is API Activity (6003)
/// with the event's name as the API operation: Create for what issues something, Delete for a revocation, Update for a
/// change, Other for the rest. The row's id, hashes and anything without an OCSF attribute travel in <c>unmapped</c>.
/// </summary>
public static class OcsfMapping
{
    public const string SchemaVersion = "1.3.0";
    public const string Product = "Tessera";

    public sealed record OcsfClass(int Uid, string Name, int CategoryUid, string CategoryName);

    public sealed record OcsfActivity(OcsfClass Class, int Id, string Name)
    {
        /// <summary>OCSF's type_uid: the class id times 100 plus the activity id.</summary>
        public long TypeUid => (Class.Uid * 100L) + Id;
    }

    public static readonly OcsfClass Authentication = new(3002, "Authentication", 3, "Identity & Access Management");
    public static readonly OcsfClass AccountChange = new(3001, "Account Change", 3, "Identity & Access Management");
    public static readonly OcsfClass ApiActivity = new(6003, "API Activity", 6, "Application Activity");

    private static readonly OcsfActivity Logon = new(Authentication, 1, "Logon");
    private static readonly OcsfActivity Logoff = new(Authentication, 2, "Logoff");
    private static readonly OcsfActivity Enable = new(AccountChange, 2, "Enable");
    private static readonly OcsfActivity Disable = new(AccountChange, 5, "Disable");
    private static readonly OcsfActivity Create = new(ApiActivity, 1, "Create");
    private static readonly OcsfActivity Update = new(ApiActivity, 3, "Update");
    private static readonly OcsfActivity Delete = new(ApiActivity, 4, "Delete");

    private static readonly FrozenDictionary<string, OcsfActivity> Activities = new Dictionary<string, OcsfActivity>(StringComparer.Ordinal)
    {
        [AuditEvents.SignInStarted] = Logon,
        [AuditEvents.SignInSucceeded] = Logon,
        [AuditEvents.SignInFailed] = Logon,
        [AuditEvents.SessionEnded] = Logoff,
        [AuditEvents.UserAccessRevoked] = Disable,
        [AuditEvents.UserEnabled] = Enable,
        [AuditEvents.AuthorizationGranted] = Create,
        [AuditEvents.TokenIssued] = Create,
        [AuditEvents.TokenRefreshed] = Create,
        [AuditEvents.TokenExchanged] = Create,
        [AuditEvents.KeysRotated] = Create,
        [AuditEvents.TokenRevoked] = Delete,
        [AuditEvents.ScimChanged] = Update,
        [AuditEvents.AdminChanged] = Update,
        [AuditEvents.ConfigurationApplied] = Update,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Detections that revoke whole token families: worth a look even though Tessera already acted.</summary>
    private static readonly FrozenSet<string> HighSeverity = new[] { AuditEvents.RefreshTokenReuseDetected, AuditEvents.AuthorizationCodeReplayDetected }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Anomalies (travel, countries, failure bursts) are worth a look too, but are inferred from where requests come from.</summary>
    private static readonly FrozenSet<string> MediumSeverity = new[] { AuditEvents.AnomalyDetected }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The OCSF class and activity of an event; API Activity "Other" for events this table does not name.</summary>
    public static OcsfActivity ActivityOf(string auditEvent) => Activities.GetValueOrDefault(auditEvent) ?? new OcsfActivity(ApiActivity, 99, "Other");

    public static JsonObject Map(AuditRecord row)
    {
        var activity = ActivityOf(row.Event);
        var (statusId, status) = row.Outcome switch
        {
            AuditEvent.Success => (1, "Success"),
            AuditEvent.Failure => (2, "Failure"),
            _ => (0, "Unknown"),
        };
        var (severityId, severity) = HighSeverity.Contains(row.Event) ? (4, "High")
            : MediumSeverity.Contains(row.Event) ? (3, "Medium")
            : statusId == 2 ? (2, "Low")
            : (1, "Informational");
        var detail = Detail(row.Detail);

        var ocsf = new JsonObject
        {
            ["class_uid"] = activity.Class.Uid,
            ["class_name"] = activity.Class.Name,
            ["category_uid"] = activity.Class.CategoryUid,
            ["category_name"] = activity.Class.CategoryName,
            ["activity_id"] = activity.Id,
            ["activity_name"] = activity.Id == 99 ? row.Event : activity.Name,
            ["type_uid"] = activity.TypeUid,
            ["type_name"] = $"{activity.Class.Name}: {(activity.Id == 99 ? row.Event : activity.Name)}",
            ["time"] = new DateTimeOffset(DateTime.SpecifyKind(row.OccurredAt, DateTimeKind.Utc)).ToUnixTimeMilliseconds(),
            ["severity_id"] = severityId,
            ["severity"] = severity,
            ["status_id"] = statusId,
            ["status"] = status,
            ["message"] = row.Reason is null ? row.Event : $"{row.Event}: {row.Reason}",
            ["metadata"] = new JsonObject
            {
                ["version"] = SchemaVersion,
                ["uid"] = row.Id.ToString(CultureInfo.InvariantCulture),
                ["log_name"] = "audit",
                ["product"] = new JsonObject { ["name"] = Product, ["vendor_name"] = Product },
            },
        };

        if (row.Reason is not null && statusId == 2)
        {
            ocsf["status_detail"] = row.Reason;
        }

        ocsf["src_endpoint"] = row.IpAddress is null ? new JsonObject() : new JsonObject { ["ip"] = row.IpAddress };
        if (row.UserAgent is not null)
        {
            ocsf["http_request"] = new JsonObject { ["user_agent"] = row.UserAgent };
        }

        if (activity.Class == ApiActivity)
        {
            ocsf["api"] = new JsonObject { ["operation"] = row.Event, ["service"] = new JsonObject { ["name"] = Product } };
            ocsf["actor"] = Actor(row, withUser: true);
        }
        else
        {
            // Authentication and Account Change: the user signing in, out, or being changed.
            ocsf["user"] = User(row);
            if (activity.Class == Authentication)
            {
                if (row.ClientId is not null)
                {
                    ocsf["service"] = new JsonObject { ["name"] = row.ClientId };
                }

                if (detail is JsonObject fields && fields["sid"] is { } sid && sid.GetValueKind() == JsonValueKind.String)
                {
                    ocsf["session"] = new JsonObject { ["uid"] = sid.GetValue<string>() };
                }
            }
            else
            {
                ocsf["actor"] = Actor(row, withUser: false);
            }
        }

        ocsf["unmapped"] = new JsonObject
        {
            ["event"] = row.Event,
            ["outcome"] = row.Outcome,
            ["organization"] = row.OrganizationId,
            ["client"] = row.ClientId,
            ["connection"] = row.ConnectionId,
            ["detail"] = detail,
            ["previous_hash"] = row.PreviousHash,
            ["hash"] = row.Hash,
        };
        return ocsf;
    }

    private static JsonObject User(AuditRecord row)
    {
        var user = row.UserId is null
            ? new JsonObject { ["type_id"] = 0, ["type"] = "Unknown" }
            : new JsonObject { ["uid"] = row.UserId, ["type_id"] = 1, ["type"] = "User" };
        if (row.OrganizationId is not null)
        {
            user["org"] = new JsonObject { ["uid"] = row.OrganizationId };
        }

        return user;
    }

    private static JsonObject Actor(AuditRecord row, bool withUser)
    {
        var actor = new JsonObject();
        if (withUser && row.UserId is not null)
        {
            actor["user"] = User(row);
        }

        if (row.ClientId is not null)
        {
            actor["app_name"] = row.ClientId;
        }

        return actor;
    }

    private static JsonNode? Detail(string? detail)
    {
        if (detail is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(detail);
        }
        catch (JsonException)
        {
            return detail;
        }
    }
}
