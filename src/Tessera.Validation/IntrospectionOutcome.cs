namespace Tessera.Validation;

/// <summary>What Tessera's introspection endpoint said about a token (RFC 7662 §2.2).</summary>
internal enum IntrospectionOutcome
{
    Active,
    Inactive,

    /// <summary>No answer: unreachable, timed out, an error status, or a body that is not an introspection response.</summary>
    Unavailable,
}
