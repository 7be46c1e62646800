using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;

namespace Tessera.Storage;

/// <summary>
/// Work that must wait until what a context wrote is committed, because other connections cannot see it before: the
/// signal dispatcher's wake, the audit writer's. <see cref="Register"/> marks the context, and
/// <see cref="AfterCommitInterceptor"/> runs what was registered once the rows are durable, or drops it on a rollback.
/// </summary>
public sealed class AfterCommit
{
    private readonly ConditionalWeakTable<DbContext, HashSet<Action>> _pending = [];

    /// <summary>Runs <paramref name="action"/> once what <paramref name="db"/> saves next (or its transaction) is committed.</summary>
    public void Register(DbContext db, Action action)
    {
        var actions = _pending.GetValue(db, _ => []);
        lock (actions)
        {
            actions.Add(action);
        }
    }

    internal void Committed(DbContext? db)
    {
        if (db is null || !_pending.TryGetValue(db, out var actions) || !_pending.Remove(db))
        {
            return;
        }

        Action[] due;
        lock (actions)
        {
            due = [.. actions];
        }

        foreach (var action in due)
        {
            action();
        }
    }

    internal void Discarded(DbContext? db)
    {
        if (db is not null)
        {
            _pending.Remove(db);
        }
    }
}
