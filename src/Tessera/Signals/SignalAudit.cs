using Tessera.Audit;
using Tessera.Storage;

namespace Tessera.Signals;

/// <summary>The audit row of what became of one delivery, whichever channel carried it.</summary>
public static class SignalAudit
{
    public static AuditEvent Delivery(SignalDeliveryRecord delivery, string name, string outcome, string? reason, params IEnumerable<KeyValuePair<string, string?>> extra)
    {
        var signal = delivery.Event!;
        var detail = new Dictionary<string, string?>
        {
            ["event"] = signal.Type,
            ["channel"] = delivery.Channel,
            ["destination"] = delivery.Destination,
            ["jti"] = delivery.TokenId,
            ["sid"] = signal.SessionId,
        };
        foreach (var (key, value) in extra)
        {
            detail[key] = value;
        }

        return new AuditEvent(name, outcome)
        {
            OrganizationId = signal.OrganizationId,
            UserId = signal.UserId.ToString(),
            ClientId = delivery.Channel == SignalChannels.BackchannelLogout ? delivery.Destination : null,
            Reason = reason,
            Detail = detail,
        };
    }
}
