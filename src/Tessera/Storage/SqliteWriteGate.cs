using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace Tessera.Storage;

/// <summary>
/// <para>
/// SQLite has one write lock per database, and every EF Core transaction on SQLite takes it at its start
/// (<c>BEGIN IMMEDIATE</c>). A writer that finds it taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15,
/// 20, 25, 50 and 100 ms between tries and holds a thread-pool thread while it sleeps. Under concurrent refreshes, code
/// redemptions and sign-ins the lock, held about a millisecond at a time, stood free while its waiters slept: in 10 s of
/// refresh load a node slept 2,600 times (22 s of threads asleep) and used 1.2 of its 2 cores.
/// </para>
/// <para>
/// The gate queues this node's writers before they ask SQLite: transactions, and EF Core's writes outside one (a
/// <c>SaveChanges</c> of one statement, <c>ExecuteUpdate</c>, <c>ExecuteDelete</c>, raw SQL), which take the lock for
/// their one statement. Each waits, without a thread, for the writer before it to end, and starts the moment it has.
/// It is a queue in front of SQLite's lock, not a replacement for it: other processes on the same file still meet the
/// lock and its busy handler. A writer that waits longer than <see cref="MaxWait"/> (one of this node's writers that
/// never ended) goes on to SQLite's lock unqueued, as it did without the gate, and the wait is logged.
/// </para>
/// </summary>
public sealed partial class SqliteWriteGate(ILogger<SqliteWriteGate> logger) : DbTransactionInterceptor, IDbCommandInterceptor
{
    /// <summary>How long a writer waits for the one before it before going on to SQLite's lock unqueued.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(SqlitePragmas.BusyTimeoutMilliseconds);

    /// <summary>A turn taken by a transaction that is being begun on a connection, until its transaction object takes it.</summary>
    private static readonly ConditionalWeakTable<DbConnection, Turn> Taken = [];

    /// <summary>The turns of writes outside a transaction, until their statement is done.</summary>
    private readonly ConditionalWeakTable<DbCommand, Turn> _statements = [];

    private readonly SemaphoreSlim _queue = new(1, 1);

    /// <summary>How many writers waited past <see cref="MaxWait"/> and went on unqueued (for tests and diagnosis).</summary>
    public int Overruns => _overruns;

    private int _overruns;

    // The gate begins the transaction itself, so that a BEGIN that fails (a database that is gone, a busy timeout)
    // hands its turn straight on: EF Core tells no interceptor about a failed begin.
    public override InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        if (result.HasResult)
        {
            return result;
        }

        Forget(connection);
        var turn = TurnOf(_queue.Wait(MaxWait));
        try
        {
            return Begun(connection, connection.BeginTransaction(eventData.IsolationLevel), turn);
        }
        catch
        {
            turn?.End();
            throw;
        }
    }

    public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        if (result.HasResult)
        {
            return result;
        }

        Forget(connection);
        var turn = TurnOf(await _queue.WaitAsync(MaxWait, cancellationToken));
        try
        {
            return Begun(connection, await connection.BeginTransactionAsync(eventData.IsolationLevel, cancellationToken), turn);
        }
        catch
        {
            turn?.End();
            throw;
        }
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result) =>
        Entered(command, eventData, result);

    public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) =>
        EnteredAsync(command, eventData, result, cancellationToken);

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
        Entered(command, eventData, result);

    public ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default) =>
        EnteredAsync(command, eventData, result, cancellationToken);

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result) =>
        Entered(command, eventData, result);

    public ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default) =>
        EnteredAsync(command, eventData, result, cancellationToken);

    // A statement without rows to read is done when it returns; one with rows (INSERT ... RETURNING) when its reader goes.
    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        EndStatement(command);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        EndStatement(command);
        return ValueTask.FromResult(result);
    }

    public object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        EndStatement(command);
        return result;
    }

    public ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        EndStatement(command);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        EndStatement(command);
        return result;
    }

    public void CommandFailed(DbCommand command, CommandErrorEventData eventData) => EndStatement(command);

    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        EndStatement(command);
        return Task.CompletedTask;
    }

    public void CommandCanceled(DbCommand command, CommandEndEventData eventData) => EndStatement(command);

    public Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        EndStatement(command);
        return Task.CompletedTask;
    }

    /// <summary>The turn taken for the transaction just begun on <paramref name="connection"/>, now owned by its transaction object; null when none was taken.</summary>
    internal static Turn? Take(DbConnection connection)
    {
        if (Taken.TryGetValue(connection, out var turn))
        {
            Taken.Remove(connection);
            return turn;
        }

        return null;
    }

    /// <summary>Leaves the turn on the connection for the transaction object EF Core makes next (<see cref="Take"/>).</summary>
    private static InterceptionResult<DbTransaction> Begun(DbConnection connection, DbTransaction transaction, Turn? turn)
    {
        if (turn is not null)
        {
            Taken.AddOrUpdate(connection, turn);
        }

        return InterceptionResult<DbTransaction>.SuppressWithResult(transaction);
    }

    /// <summary>The turn of a writer that entered the queue, or null (logged) for one that waited past <see cref="MaxWait"/>.</summary>
    private Turn? TurnOf(bool entered)
    {
        if (entered)
        {
            return new Turn(_queue);
        }

        Interlocked.Increment(ref _overruns);
        LogOverrun(logger, MaxWait.TotalMilliseconds);
        return null;
    }

    // Inside a transaction the transaction's turn covers the statement; reads never take SQLite's write lock.
    private static bool WritesAlone(DbCommand command, CommandEventData eventData) =>
        command.Transaction is null
        && eventData.CommandSource is CommandSource.SaveChanges or CommandSource.ExecuteUpdate or CommandSource.ExecuteDelete or CommandSource.ExecuteSqlRaw;

    private T Entered<T>(DbCommand command, CommandEventData eventData, T result)
    {
        if (WritesAlone(command, eventData))
        {
            QueuedStatement(command, _queue.Wait(MaxWait));
        }

        return result;
    }

    private async ValueTask<T> EnteredAsync<T>(DbCommand command, CommandEventData eventData, T result, CancellationToken cancellationToken)
    {
        if (WritesAlone(command, eventData))
        {
            QueuedStatement(command, await _queue.WaitAsync(MaxWait, cancellationToken));
        }

        return result;
    }

    private void QueuedStatement(DbCommand command, bool entered)
    {
        if (TurnOf(entered) is { } turn)
        {
            _statements.AddOrUpdate(command, turn);
        }
    }

    private void EndStatement(DbCommand command)
    {
        if (_statements.TryGetValue(command, out var turn))
        {
            _statements.Remove(command);
            turn.End();
        }
    }

    // A turn still lying on the connection belongs to a begin that never reached its transaction object.
    private static void Forget(DbConnection connection) => Take(connection)?.End();

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "A SQLite writer waited {WaitMs} ms for this node's earlier writers and goes on to the database's lock unqueued; a writer that does not end holds the others up")]
    private static partial void LogOverrun(ILogger logger, double waitMs);

    /// <summary>One writer's turn, ended once: when its transaction commits, rolls back or is disposed, or its statement is done.</summary>
    internal sealed class Turn(SemaphoreSlim queue)
    {
        private int _ended;

        public void End()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                queue.Release();
            }
        }
    }
}

/// <summary>Makes EF Core's transactions on SQLite end their <see cref="SqliteWriteGate"/> turn when they end.</summary>
public sealed class SqliteGatedTransactionFactory(RelationalTransactionFactoryDependencies dependencies) : RelationalTransactionFactory(dependencies)
{
    public override RelationalTransaction Create(IRelationalConnection connection, DbTransaction transaction, Guid transactionId, IDiagnosticsLogger<DbLoggerCategory.Database.Transaction> logger, bool transactionOwned) =>
        new GatedTransaction(connection, transaction, transactionId, logger, transactionOwned, Dependencies.SqlGenerationHelper, SqliteWriteGate.Take(connection.DbConnection));

    // Commit, rollback and dispose all end in ClearTransaction, after SQLite has released its lock.
    private sealed class GatedTransaction(
        IRelationalConnection connection,
        DbTransaction transaction,
        Guid transactionId,
        IDiagnosticsLogger<DbLoggerCategory.Database.Transaction> logger,
        bool transactionOwned,
        ISqlGenerationHelper sqlGenerationHelper,
        SqliteWriteGate.Turn? turn)
        : RelationalTransaction(connection, transaction, transactionId, logger, transactionOwned, sqlGenerationHelper)
    {
        protected override void ClearTransaction()
        {
            try
            {
                base.ClearTransaction();
            }
            finally
            {
                turn?.End();
            }
        }

        protected override async Task ClearTransactionAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                await base.ClearTransactionAsync(cancellationToken);
            }
            finally
            {
                turn?.End();
            }
        }
    }
}
