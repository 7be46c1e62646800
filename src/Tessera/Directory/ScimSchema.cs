namespace Tessera.Directory;

/// <summary>RFC 7643 §2.3 attribute data types.</summary>
public enum ScimType
{
    String, Boolean, DateTime, Reference, Complex, Binary,
}

/// <summary>RFC 7643 §7 mutability.</summary>
public enum ScimMutability
{
    ReadWrite, ReadOnly, Immutable, WriteOnly,
}

/// <summary>RFC 7643 §7 when an attribute is returned.</summary>
public enum ScimReturned
{
    Default, Always, Never, Request,
}

/// <summary>RFC 7643 §7 uniqueness.</summary>
public enum ScimUniqueness
{
    None, Server, Global,
}

/// <summary>
/// One attribute definition (RFC 7643 §7). The same definitions drive validation of what clients send, the names
/// Tessera stores, filter translation (which comparisons are case-exact), projection and the <c>/Schemas</c> answer.
/// </summary>
public sealed record ScimAttribute(string Name, ScimType Type = ScimType.String)
{
    public bool MultiValued { get; init; }
    public bool Required { get; init; }
    public bool CaseExact { get; init; }
    public ScimMutability Mutability { get; init; } = ScimMutability.ReadWrite;
    public ScimReturned Returned { get; init; } = ScimReturned.Default;
    public ScimUniqueness Uniqueness { get; init; } = ScimUniqueness.None;
    public IReadOnlyList<string> CanonicalValues { get; init; } = [];
    public IReadOnlyList<string> ReferenceTypes { get; init; } = [];
    public IReadOnlyList<ScimAttribute> SubAttributes { get; init; } = [];
    public string Description { get; init; } = "";

    public ScimAttribute? Sub(string name) =>
        SubAttributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A schema (RFC 7643 §7): its URN and its attributes.</summary>
public sealed record ScimSchema(string Id, string Name, string Description, IReadOnlyList<ScimAttribute> Attributes)
{
    public ScimAttribute? Attribute(string name) =>
        Attributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A resource type (RFC 7643 §6): its core schema and the extensions it may carry.</summary>
public sealed record ScimResourceType(string Name, string Endpoint, string Description, ScimSchema Schema, IReadOnlyList<ScimSchema> Extensions)
{
    public IEnumerable<ScimSchema> AllSchemas => Extensions.Prepend(Schema);

    public ScimSchema? SchemaById(string urn) =>
        AllSchemas.FirstOrDefault(s => string.Equals(s.Id, urn, StringComparison.OrdinalIgnoreCase));
}
