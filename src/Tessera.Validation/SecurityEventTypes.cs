namespace Tessera.Validation;

/// <summary>The events Tessera pushes, one per Security Event Token.</summary>
public enum SecurityEventType
{
    SessionRevoked,
    AccountDisabled,
    AccountEnabled,
}

/// <summary>The event type URIs (OpenID CAEP 1.0 §3.1, OpenID RISC 1.0 §2.2 and §2.3).</summary>
public static class SecurityEventTypes
{
    public const string SessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
    public const string AccountDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
    public const string AccountEnabled = "https://schemas.openid.net/secevent/risc/event-type/account-enabled";

    public static SecurityEventType? FromUri(string uri) => uri switch
    {
        SessionRevoked => SecurityEventType.SessionRevoked,
        AccountDisabled => SecurityEventType.AccountDisabled,
        AccountEnabled => SecurityEventType.AccountEnabled,
        _ => null,
    };

    /// <summary>The last segment of the type's URI, as metrics and logs name it.</summary>
    public static string ShortName(SecurityEventType type) => type switch
    {
        SecurityEventType.SessionRevoked => "session-revoked",
        SecurityEventType.AccountDisabled => "account-disabled",
        _ => "account-enabled",
    };
}
