namespace Tessera.Audit;

/// <summary>One security-relevant event. Never carries a secret or a token value; a token may be named by its <c>jti</c>.</summary>
public sealed record AuditEvent(string Event, string Outcome)
{
    public const string Success = "success";
    public const string Failure = "failure";

    public string? OrganizationId { get; init; }
    public string? UserId { get; init; }
    public string? ClientId { get; init; }
    public string? ConnectionId { get; init; }
    public string? IpAddress { get; init; }
    public string? UserAgent { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyDictionary<string, string?>? Detail { get; init; }
}

/// <summary>The names of audited events.</summary>
public static class AuditEvents
{
    public const string SignInStarted = "signin.started";
    public const string SignInSucceeded = "signin.succeeded";
    public const string SignInFailed = "signin.failed";
    public const string AuthorizationRefused = "authorization.refused";
    public const string AuthorizationGranted = "authorization.granted";
    public const string TokenIssued = "token.issued";
    public const string TokenRefreshed = "token.refreshed";
    public const string TokenRequestRefused = "token.refused";
    public const string TokenRevoked = "token.revoked";
    public const string TokenExchanged = "token.exchanged";
    public const string TokenExchangeRefused = "token.exchange_refused";
    public const string RefreshTokenReuseDetected = "token.refresh_reuse_detected";
    public const string AuthorizationCodeReplayDetected = "token.code_replay_detected";
    public const string IntrospectionRefused = "introspection.refused";
    public const string SessionEnded = "session.ended";
    public const string UserAccessRevoked = "user.access_revoked";
    public const string UserEnabled = "user.enabled";
    public const string SignalDelivered = "signal.delivered";
    public const string SignalDeliveryFailed = "signal.delivery_failed";
    public const string SignalRefused = "signal.refused";
    public const string SignalAbandoned = "signal.abandoned";
    public const string SignalPollRefused = "signal.poll_refused";
    public const string ScimChanged = "scim.changed";
    public const string ScimRefused = "scim.refused";
    public const string ConfigurationApplied = "configuration.applied";
    public const string ConfigurationRefused = "configuration.refused";
    public const string KeysRotated = "keys.rotated";
    public const string RequestRefused = "request.refused";
    public const string AdminChanged = "admin.changed";
    public const string AdminRefused = "admin.refused";
    public const string ConnectionTested = "connection.tested";
    public const string AnomalyDetected = "anomaly.detected";
    public const string PortalOpened = "portal.opened";
    public const string PortalRefused = "portal.refused";
    public const string CredentialOffered = "credential.offered";
    public const string CredentialIssued = "credential.issued";
    public const string CredentialRefused = "credential.refused";
    public const string CredentialRevoked = "credential.revoked";
    public const string PresentationRequested = "presentation.requested";
    public const string PresentationVerified = "presentation.verified";
    public const string PresentationRefused = "presentation.refused";
}
