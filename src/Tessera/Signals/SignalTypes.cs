namespace Tessera.Signals;

/// <summary>The events Tessera signals, by the short names configuration uses, and their event-type URIs.</summary>
public static class SignalTypes
{
    public const string SessionRevoked = "session-revoked";
    public const string AccountDisabled = "account-disabled";
    public const string AccountEnabled = "account-enabled";
    public const string RiskLevelChange = "risk-level-change";

    public static readonly IReadOnlySet<string> Names = new SortedSet<string>(StringComparer.Ordinal) { SessionRevoked, AccountDisabled, AccountEnabled, RiskLevelChange };

    // OpenID CAEP 1.0 §3.1 and §3.7, OpenID RISC 1.0 §2.3, §2.4.
    public static string EventUri(string type) => type switch
    {
        SessionRevoked => "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
        AccountDisabled => "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
        AccountEnabled => "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
        RiskLevelChange => "https://schemas.openid.net/secevent/caep/event-type/risk-level-change",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown signal type."),
    };

    /// <summary>OpenID Connect Back-Channel Logout 1.0 §2.4: the one event a logout token carries.</summary>
    public const string BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";
}

/// <summary>How a signal travels to its destination.</summary>
public static class SignalChannels
{
    /// <summary>A logout token posted to a client's <c>BackchannelLogoutUri</c>.</summary>
    public const string BackchannelLogout = "backchannel-logout";

    /// <summary>A SET posted to a receiver (RFC 8935).</summary>
    public const string Push = "push";

    /// <summary>A SET the receiver fetches (RFC 8936).</summary>
    public const string Poll = "poll";
}

/// <summary>Who caused the event (CAEP 1.0 §2, <c>initiating_entity</c>).</summary>
public static class InitiatingEntities
{
    public const string Admin = "admin";
    public const string User = "user";
    public const string Policy = "policy";
    public const string System = "system";
}
