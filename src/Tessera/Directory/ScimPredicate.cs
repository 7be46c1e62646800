using System.Linq.Expressions;

namespace Tessera.Directory;

/// <summary>
/// Composes the predicates a filter translates to. Each piece is written as an ordinary C# lambda, so the values it
/// captures reach EF Core as closure members and become SQL parameters; nothing is ever turned into SQL text here.
/// </summary>
internal static class ScimPredicate
{
    public static Expression<Func<T, bool>> And<T>(Expression<Func<T, bool>> left, Expression<Func<T, bool>> right) =>
        Expression.Lambda<Func<T, bool>>(Expression.AndAlso(left.Body, Rebind(right, left.Parameters[0])), left.Parameters);

    public static Expression<Func<T, bool>> Or<T>(Expression<Func<T, bool>> left, Expression<Func<T, bool>> right) =>
        Expression.Lambda<Func<T, bool>>(Expression.OrElse(left.Body, Rebind(right, left.Parameters[0])), left.Parameters);

    public static Expression<Func<T, bool>> Not<T>(Expression<Func<T, bool>> inner) =>
        Expression.Lambda<Func<T, bool>>(Expression.Not(inner.Body), inner.Parameters);

    public static Expression<Func<T, bool>> Always<T>(bool value) => value ? _ => true : _ => false;

    /// <summary><paramref name="condition"/> applied to what <paramref name="selector"/> picks out of a row.</summary>
    public static Expression<Func<T, bool>> On<T, TValue>(Expression<Func<T, TValue>> selector, Expression<Func<TValue, bool>> condition) =>
        Expression.Lambda<Func<T, bool>>(Replace(condition.Body, condition.Parameters[0], selector.Body), selector.Parameters);

    private static Expression Rebind<T>(Expression<Func<T, bool>> lambda, ParameterExpression parameter) =>
        Replace(lambda.Body, lambda.Parameters[0], parameter);

    private static Expression Replace(Expression body, ParameterExpression from, Expression to) => new Replacer(from, to).Visit(body);

    private sealed class Replacer(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}
