using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Tessera.Signals;

/// <summary>Pulses <see cref="SignalWake"/> when signals a context wrote become visible: after a save outside a transaction, or the commit.</summary>
public sealed class SignalOutboxInterceptor(SignalWake wake) : DbTransactionInterceptor, ISaveChangesInterceptor
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

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => wake.Committed(eventData.Context);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        wake.Committed(eventData.Context);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => wake.Discarded(eventData.Context);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        wake.Discarded(eventData.Context);
        return Task.CompletedTask;
    }

    private void Saved(SaveChangesCompletedEventData eventData)
    {
        if (eventData.Context is { } db && db.Database.CurrentTransaction is null)
        {
            wake.Committed(db);
        }
    }
}
