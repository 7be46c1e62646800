namespace Tessera.Directory;

/// <summary>
/// An attribute path of a filter or <c>sortBy</c> resolved against a resource type's schemas (RFC 7644 §3.10):
/// names are case-insensitive, a schema URN prefix is optional, and an unknown attribute is an invalidFilter.
/// <see cref="Schema"/> is null for the attributes common to every resource (id, externalId, meta).
/// </summary>
internal sealed record ScimFilterAttribute(ScimSchema? Schema, ScimAttribute Attribute, ScimAttribute? Sub)
{
    /// <summary>The attribute a comparison compares: the sub-attribute if there is one.</summary>
    public ScimAttribute Target => Sub ?? Attribute;

    /// <summary>Lowercase <c>attribute</c> or <c>attribute.sub</c>, without the schema: what translations switch on.</summary>
    public string Key => (Attribute.Name + (Sub is null ? "" : "." + Sub.Name)).ToLowerInvariant();

    public override string ToString() => Attribute.Name + (Sub is null ? "" : "." + Sub.Name);

    public static ScimFilterAttribute Resolve(ScimResourceType type, ScimAttributePath path)
    {
        ScimSchema? schema = null;
        ScimAttribute? attribute;
        if (path.Schema is not null)
        {
            schema = type.SchemaById(path.Schema) ?? throw new ScimFilterException($"'{path}': {type.Name} has no schema {path.Schema}");
            attribute = schema.Attribute(path.Name);
            if (attribute is null && schema == type.Schema && Common(path.Name) is { } common)
            {
                schema = null;
                attribute = common;
            }
        }
        else if (Common(path.Name) is { } common)
        {
            attribute = common;
        }
        else
        {
            // Core attributes need no URN (RFC 7644 §3.10); extension attributes are accepted without one too when
            // the name is unambiguous, as several clients send them that way.
            schema = type.AllSchemas.FirstOrDefault(s => s.Attribute(path.Name) is not null);
            attribute = schema?.Attribute(path.Name);
        }

        if (attribute is null)
        {
            throw new ScimFilterException($"'{path}' is not an attribute of {type.Name}");
        }

        ScimAttribute? sub = null;
        if (path.SubAttribute is not null)
        {
            sub = attribute.Sub(path.SubAttribute)
                ?? throw new ScimFilterException($"'{path}': {attribute.Name} has no sub-attribute {path.SubAttribute}");
        }

        var resolved = new ScimFilterAttribute(schema, attribute, sub);
        if (resolved.Target.Type == ScimType.Binary)
        {
            throw new ScimFilterException($"'{resolved}' is binary and cannot be filtered");
        }

        return resolved;
    }

    /// <summary>
    /// A sub-attribute of this (complex) attribute, named inside a value filter: <c>emails[type eq "work"]</c>.
    /// </summary>
    public ScimFilterAttribute Inner(ScimAttributePath path)
    {
        if (path.Schema is not null || path.SubAttribute is not null || Attribute.Sub(path.Name) is not { } sub)
        {
            throw new ScimFilterException($"'{path}' is not a sub-attribute of {Attribute.Name}");
        }

        var resolved = this with { Sub = sub };
        return sub.Type == ScimType.Binary ? throw new ScimFilterException($"'{resolved}' is binary and cannot be filtered") : resolved;
    }

    /// <summary>
    /// RFC 7644 §3.4.2.2: a multi-valued complex attribute compared without a sub-attribute compares its
    /// <c>value</c> (<c>emails co "x"</c>). Any other complex attribute has no such default.
    /// </summary>
    public ScimFilterAttribute WithDefaultValue()
    {
        if (Sub is not null || Attribute.Type != ScimType.Complex)
        {
            return this;
        }

        if (Attribute.MultiValued && Attribute.Sub("value") is { } value)
        {
            var withValue = this with { Sub = value };
            return withValue.Target.Type == ScimType.Binary
                ? throw new ScimFilterException($"'{Attribute.Name}' is binary and cannot be filtered")
                : withValue;
        }

        throw new ScimFilterException($"'{Attribute.Name}' is complex: compare one of its sub-attributes ({string.Join(", ", Attribute.SubAttributes.Select(s => Attribute.Name + "." + s.Name))})");
    }

    private static ScimAttribute? Common(string name) =>
        ScimSchemas.Common.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}
