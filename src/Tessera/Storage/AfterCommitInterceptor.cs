using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Tessera.Storage;

/// <summary>Tells <see cref="AfterCommit"/> when what a context wrote became visible: after a save outside a transaction, or the commit.</summary>
public sealed class AfterCommitInterceptor(AfterCommit afterCommit) : DbTransactionInterceptor, ISaveChangesInterceptor
{
    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Saved(eventData);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Saved(eventData);
        return ValueTask.FromResult(result);
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => afterCommit.Committed(eventData.Context);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        afterCommit.Committed(eventData.Context);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => afterCommit.Discarded(eventData.Context);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        afterCommit.Discarded(eventData.Context);
        return Task.CompletedTask;
    }

    private void Saved(SaveChangesCompletedEventData eventData)
    {
        if (eventData.Context is { } db && db.Database.CurrentTransaction is null)
        {
            afterCommit.Committed(db);
        }
    }
}
