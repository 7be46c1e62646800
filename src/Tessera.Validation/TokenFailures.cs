namespace Tessera.Validation;

/// <summary>The names of the rules a token is checked against; each refusal names exactly one.</summary>
public static class TokenFailures
{
    public const string Malformed = "malformed";
    public const string Unsigned = "unsigned";
    public const string Algorithm = "algorithm";
    public const string Type = "type";
    public const string Issuer = "issuer";
    public const string Audience = "audience";
    public const string Expired = "expired";
    public const string NotYetValid = "not_yet_valid";
    public const string UnknownKey = "unknown_key";
    public const string Signature = "signature";
    public const string KeysUnavailable = "keys_unavailable";
    public const string Claims = "claims";
    public const string Revoked = "revoked";
    public const string Inactive = "inactive";
    public const string RecheckUnavailable = "recheck_unavailable";
}
