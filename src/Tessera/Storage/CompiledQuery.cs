using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Tessera.Storage;

/// <summary>
/// A query of the token path that EF Core translates once, not at every execution: a compiled query skips building the
/// LINQ expression, extracting its parameters and finding its translation in the query cache. One compilation per
/// model, because a compiled query keeps the provider and the model it was first run with (SQLite's and PostgreSQL's
/// differ, and contexts built with other options get models of their own).
/// </summary>
public sealed class CompiledQuery<TDelegate> where TDelegate : Delegate
{
    private readonly ConditionalWeakTable<IModel, TDelegate> _byModel = new();
    private readonly ConditionalWeakTable<IModel, TDelegate>.CreateValueCallback _compile;

    /// <param name="compile">Compiles the query; called once for each model it runs with.</param>
    public CompiledQuery(Func<TDelegate> compile) => _compile = _ => compile();

    // The callback is built once: a lambda here would be a new closure on every lookup of the token path.
    public TDelegate For(DbContext context) => _byModel.GetValue(context.Model, _compile);
}
