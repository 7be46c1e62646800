using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tessera.Directory;

/// <summary>An attribute path (RFC 7644 §3.10): an optional schema URN, an attribute, an optional sub-attribute.</summary>
public sealed record ScimAttributePath(string? Schema, string Name, string? SubAttribute)
{
    public override string ToString() =>
        (Schema is null ? "" : Schema + ":") + Name + (SubAttribute is null ? "" : "." + SubAttribute);
}

/// <summary>RFC 7644 §3.4.2.2 attribute operators.</summary>
public enum ScimOperator
{
    Eq, Ne, Co, Sw, Ew, Gt, Lt, Ge, Le, Pr,
}

/// <summary>A comparison value: a JSON string, number, <c>true</c>, <c>false</c> or <c>null</c>.</summary>
public sealed record ScimValue(JsonValueKind Kind, string? Text = null, decimal Number = 0)
{
    public static readonly ScimValue True = new(JsonValueKind.True);
    public static readonly ScimValue False = new(JsonValueKind.False);
    public static readonly ScimValue Null = new(JsonValueKind.Null);

    public static ScimValue String(string text) => new(JsonValueKind.String, text);

    public static ScimValue Of(decimal number) => new(JsonValueKind.Number, null, number);

    public override string ToString() => Kind switch
    {
        JsonValueKind.String => JsonSerializer.Serialize(Text),
        JsonValueKind.Number => Number.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };
}

/// <summary>
/// A parsed SCIM filter (RFC 7644 §3.4.2.2). The tree is what queries are built from; nothing is ever spliced
/// into SQL as text. <see cref="ToString"/> prints a filter that parses back to an equal tree.
/// </summary>
public abstract record ScimFilter
{
    /// <summary><c>attrPath op value</c>, or <c>attrPath pr</c> (no value).</summary>
    public sealed record Comparison(ScimAttributePath Path, ScimOperator Operator, ScimValue? Value) : ScimFilter
    {
        public override string ToString() =>
            Path + " " + Operator.ToString().ToLowerInvariant() + (Value is null ? "" : " " + Value);
    }

    /// <summary><c>left and right</c> or <c>left or right</c>.</summary>
    public sealed record Logical(bool IsAnd, ScimFilter Left, ScimFilter Right) : ScimFilter
    {
        public override string ToString() => Operand(Left) + (IsAnd ? " and " : " or ") + Operand(Right);

        // "and" binds tighter than "or"; anything looser than this node, or an "or" under an "and", is parenthesized.
        // The right operand of the same operator is parenthesized too, so that the tree (left-nested) round-trips.
        private string Operand(ScimFilter operand) => operand switch
        {
            Logical inner when !inner.IsAnd && IsAnd => "(" + inner + ")",
            Logical inner when ReferenceEquals(operand, Right) && inner.IsAnd == IsAnd => "(" + inner + ")",
            _ => operand.ToString()!,
        };
    }

    /// <summary><c>not (filter)</c>.</summary>
    public sealed record Not(ScimFilter Inner) : ScimFilter
    {
        public override string ToString() => "not (" + Inner + ")";
    }

    /// <summary><c>attrPath[filter]</c>: some value of a multi-valued complex attribute matches the inner filter.</summary>
    public sealed record ValuePath(ScimAttributePath Path, ScimFilter Filter) : ScimFilter
    {
        public override string ToString() => Path + "[" + Filter + "]";
    }
}

/// <summary>Why a filter or path was refused; answered as 400 with <c>scimType</c> <c>invalidFilter</c> (or <c>invalidPath</c>).</summary>
public sealed class ScimFilterException(string message) : Exception(message);
