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
public sealed class CompiledQuery<TDelegate>(Func<TDelegate> compile) where TDelegate : Delegate
{
    private readonly ConditionalWeakTable<IModel, TDelegate> _byModel = new();

    public TDelegate For(DbContext context) => _byModel.GetValue(context.Model, _ => compile());
}
