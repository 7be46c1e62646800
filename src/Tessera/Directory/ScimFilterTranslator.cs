using System.Linq.Expressions;
using System.Text.Json;

namespace Tessera.Directory;

/// <summary>
/// Turns a filter tree into one predicate over <typeparamref name="T"/> (a resource, or one value of a multi-valued
/// attribute inside a value filter). The logic shared by every resource lives here; where each attribute is stored is
/// for the subclasses to say.
/// </summary>
internal abstract class ScimFilterTranslator<T>
{
    public Expression<Func<T, bool>> Filter(ScimFilter filter) => filter switch
    {
        ScimFilter.Logical { IsAnd: true } and => ScimPredicate.And(Filter(and.Left), Filter(and.Right)),
        ScimFilter.Logical or => ScimPredicate.Or(Filter(or.Left), Filter(or.Right)),
        ScimFilter.Not not => ScimPredicate.Not(Filter(not.Inner)),
        ScimFilter.Comparison comparison => Compare(Resolve(comparison.Path), comparison.Operator, comparison.Value),
        ScimFilter.ValuePath valuePath => ValuePath(Resolve(valuePath.Path), valuePath.Filter),
        _ => throw new ScimFilterException("unsupported filter"),
    };

    public Expression<Func<T, bool>> Compare(ScimFilterAttribute attribute, ScimOperator op, ScimValue? value)
    {
        // RFC 7644 §3.4.2.2 does not say how "ne" treats a resource without the attribute. Tessera reads "ne" as
        // "not eq": a resource lacking the attribute matches "title ne x", exactly as it matches "not (title eq x)",
        // and a multi-valued attribute matches "ne" only when none of its values is equal.
        if (op == ScimOperator.Ne)
        {
            return ScimPredicate.Not(Compare(attribute, ScimOperator.Eq, value));
        }

        if (op == ScimOperator.Pr)
        {
            return Present(attribute);
        }

        // "eq null" asks for a missing attribute (RFC 7643 §2.5: unassigned and null are the same).
        if (value is null || value.Kind == JsonValueKind.Null)
        {
            return op == ScimOperator.Eq
                ? ScimPredicate.Not(Present(attribute))
                : throw new ScimFilterException($"'{op.ToString().ToLowerInvariant()}' cannot compare {attribute} with null");
        }

        return Positive(attribute.WithDefaultValue(), op, value);
    }

    protected abstract ScimFilterAttribute Resolve(ScimAttributePath path);

    /// <summary>RFC 7644 §3.4.2.2 <c>pr</c>: the attribute has a non-empty value (for a complex one: any non-empty sub-attribute).</summary>
    public abstract Expression<Func<T, bool>> Present(ScimFilterAttribute attribute);

    /// <summary>eq co sw ew gt ge lt le against a non-null value; the attribute is simple or a sub-attribute.</summary>
    public abstract Expression<Func<T, bool>> Positive(ScimFilterAttribute attribute, ScimOperator op, ScimValue value);

    protected virtual Expression<Func<T, bool>> ValuePath(ScimFilterAttribute attribute, ScimFilter inner) =>
        throw new ScimFilterException($"value filters do not nest ('{attribute}')");

    protected static ScimFilterException NotFilterable(ScimFilterAttribute attribute) =>
        new($"{attribute} cannot be filtered");

    /// <summary>The operands of a chain of "and": <c>a and (b and c)</c> gives a, b, c.</summary>
    protected static IEnumerable<ScimFilter> Conjuncts(ScimFilter filter) => filter is ScimFilter.Logical { IsAnd: true } and
        ? Conjuncts(and.Left).Concat(Conjuncts(and.Right))
        : [filter];

    protected static ScimFilterException NotComplex(ScimFilterAttribute attribute) =>
        new($"'{attribute}[...]': a value filter applies to a complex attribute");
}
