namespace Tessera.Saml;

/// <summary>What a validated assertion says. Every value here was read from the element the signature covered.</summary>
public sealed record SamlAssertion(
    string Id,
    string Issuer,
    string NameId,
    string? NameIdFormat,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Attributes,
    DateTimeOffset NotOnOrAfter)
{
    public string? InResponseTo { get; init; }
    public string? SessionIndex { get; init; }
    public DateTimeOffset? SessionNotOnOrAfter { get; init; }
    public DateTimeOffset? AuthnInstant { get; init; }
    public string? AuthnContextClassRef { get; init; }

    /// <summary>True when the assertion arrived encrypted to the service provider.</summary>
    public bool WasEncrypted { get; init; }
}
