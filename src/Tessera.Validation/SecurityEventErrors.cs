namespace Tessera.Validation;

/// <summary>The error codes a receiver answers a refused SET with (RFC 8935 §2.4).</summary>
public static class SecurityEventErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidKey = "invalid_key";
    public const string InvalidIssuer = "invalid_issuer";
    public const string InvalidAudience = "invalid_audience";
    public const string AuthenticationFailed = "authentication_failed";
    public const string AccessDenied = "access_denied";
}

/// <summary>A verified event, or the RFC 8935 error code and a description for the 400 answer.</summary>
internal sealed record SecurityEventResult(SecurityEvent? Event, string? Error, string? Description)
{
    /// <summary>The refusal is Tessera's side being unavailable (its keys), not the SET: answered 503 so it is retried.</summary>
    public bool Transient { get; init; }

    public static SecurityEventResult Refuse(string error, string description) => new(null, error, description);
}
