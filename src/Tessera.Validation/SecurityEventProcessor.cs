using Microsoft.Extensions.Logging;

namespace Tessera.Validation;

/// <summary>
/// Applies a verified event. session-revoked: that session's cached validations are dropped at once and the session
/// is refused from now on. account-disabled: the user's cached validations of tokens issued up to the event are
/// dropped and such tokens refused from now on. account-enabled: counted only; tokens issued before the disable
/// stay refused, as they do at Tessera.
/// </summary>
internal sealed partial class SecurityEventProcessor(ValidationCache cache, RevocationList revocations, TesseraValidationMetrics metrics, ILogger<SecurityEventProcessor> logger)
{
    public void Apply(SecurityEvent securityEvent)
    {
        var dropped = 0;
        switch (securityEvent.Type)
        {
            case SecurityEventType.SessionRevoked:
                var sessionId = securityEvent.SessionId!;
                // First the list (so new validations are refused), then the cache (see RevocationList.Generation).
                revocations.RevokeSession(sessionId);
                dropped = cache.RemoveWhere(token => token.SessionId == sessionId);
                break;

            case SecurityEventType.AccountDisabled:
                var subject = securityEvent.Subject;
                var until = securityEvent.TimeOfEvent;
                revocations.DisableAccount(subject, until);
                dropped = cache.RemoveWhere(token => token.Subject == subject && token.IssuedAt.ToUnixTimeSeconds() <= until);
                break;
        }

        metrics.EventApplied(securityEvent.Type);
        EventApplied(logger, SecurityEventTypes.ShortName(securityEvent.Type), securityEvent.Jti, dropped);
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Security event {EventType} applied (jti {Jti}): {Dropped} cached validations dropped")]
    private static partial void EventApplied(ILogger logger, string eventType, string jti, int dropped);
}
