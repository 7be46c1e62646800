using System.Security.Claims;

namespace Tessera.Validation;

/// <summary>Where a validation's answer came from.</summary>
public enum ValidationSource
{
    /// <summary>The validation cache: no signature check, no request to Tessera.</summary>
    Cache,

    /// <summary>Signature and claims checked here against Tessera's published keys.</summary>
    Local,

    /// <summary>Tessera's introspection endpoint (RFC 7662), asked after the recheck time passed.</summary>
    Introspection,
}

/// <summary>
/// A validated token's principal, or the rule it broke (<see cref="TokenFailures"/>) with a description safe to
/// return in <c>WWW-Authenticate</c> and to log (it never contains the token).
/// </summary>
public sealed record TesseraValidationResult(ClaimsPrincipal? Principal, ValidationSource Source, string? Failure, string? Description)
{
    public bool IsValid => Principal is not null;

    public static TesseraValidationResult Valid(ClaimsPrincipal principal, ValidationSource source) => new(principal, source, null, null);

    public static TesseraValidationResult Invalid(string failure, string description, ValidationSource source = ValidationSource.Local) => new(null, source, failure, description);
}
