using Microsoft.EntityFrameworkCore;

namespace Tessera.Signals;

/// <summary>
/// Tells this node's dispatcher and waiting pollers that signals were committed, so they go out at once instead of at
/// the next poll. Signals written before the commit are invisible to other connections, so the pulse waits for it:
/// <see cref="AfterCommit"/> pulses once the rows are durable (<see cref="Storage.AfterCommit"/>).
/// </summary>
public sealed class SignalWake(Storage.AfterCommit afterCommit)
{
    private TaskCompletionSource _pulse = NewPulse();

    /// <summary>Completes at the next pulse.</summary>
    public Task Next => Volatile.Read(ref _pulse).Task;

    public void Pulse() => Interlocked.Exchange(ref _pulse, NewPulse()).TrySetResult();

    /// <summary>Pulse once what <paramref name="db"/> saves next (or its transaction) is committed.</summary>
    public void AfterCommit(DbContext db) => afterCommit.Register(db, Pulse);

    private static TaskCompletionSource NewPulse() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
