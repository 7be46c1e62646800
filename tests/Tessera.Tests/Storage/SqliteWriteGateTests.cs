using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Tessera.Storage;

namespace Tessera.Tests.Storage;

/// <summary>
/// The queue in front of SQLite's write lock, wired as Tessera wires it (<c>AddTesseraStorage</c>), whichever storage the
/// rest of the suite runs on. Without the queue a second writer waits inside SQLite's busy handler, which blocks the
/// caller: the "still waiting" checks below would not be reached until the first writer had ended.
/// </summary>
public sealed class SqliteWriteGateTests : IAsyncLifetime
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(2);
    private OwnSqliteStorage _storage = null!;

    private SqliteWriteGate Gate => Services.GetRequiredService<SqliteWriteGate>();

    private ServiceProvider Services => _storage.Services;

    public async Task InitializeAsync() => _storage = await OwnSqliteStorage.CreateAsync();

    [Fact]
    public async Task A_transaction_begun_while_another_is_open_waits_its_turn_without_blocking_and_starts_when_the_first_commits()
    {
        await using var first = Context(out var a);
        await using var second = Context(out var b);
        var open = await WriterAsync(a);

        var waiting = b.Database.BeginTransactionAsync();
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted, "the second transaction began while the first held the database");

        // Readers are not queued: under the write-ahead log they see the last commit while a writer is open.
        await using var third = Context(out var c);
        Assert.Equal(0, await c.RiskObservations.CountAsync().WaitAsync(Soon));

        await open.CommitAsync();
        await using var started = await waiting.WaitAsync(Soon);
        Assert.Equal(1, await b.RiskObservations.CountAsync());
        Assert.Equal(0, Gate.Overruns);
    }

    [Fact]
    public async Task A_transaction_disposed_without_a_commit_hands_its_turn_on_and_leaves_nothing_behind()
    {
        await using var first = Context(out var a);
        await using var second = Context(out var b);
        var open = await WriterAsync(a);
        var waiting = b.Database.BeginTransactionAsync();

        await open.DisposeAsync();

        await using var started = await waiting.WaitAsync(Soon);
        Assert.Equal(0, await b.RiskObservations.CountAsync());
        Assert.Equal(0, Gate.Overruns);
    }

    [Fact]
    public async Task A_begin_that_fails_hands_its_turn_on()
    {
        await using var first = Context(out var a);
        await using var second = Context(out var b);

        // Microsoft.Data.Sqlite refuses isolation levels SQLite has no equivalent for, after the gate gave a turn.
        await Assert.ThrowsAsync<ArgumentException>(() => a.Database.BeginTransactionAsync(IsolationLevel.Chaos));

        await using var started = await b.Database.BeginTransactionAsync().WaitAsync(Soon);
        Assert.Equal(0, Gate.Overruns);
    }

    [Fact]
    public async Task Writes_outside_a_transaction_wait_for_the_open_one_and_hand_their_turn_on_when_their_statement_is_done()
    {
        await using var first = Context(out var a);
        await using var second = Context(out var b);
        await using var third = Context(out var c);
        var open = await WriterAsync(a);

        // One INSERT ... RETURNING (a reader), then one UPDATE (no rows back), each outside a transaction.
        b.RiskObservations.Add(Observation());
        var insert = b.SaveChangesAsync();
        await Task.Delay(300);
        Assert.False(insert.IsCompleted, "a write outside a transaction ran while a transaction held the database");

        await open.CommitAsync();
        Assert.Equal(1, await insert.WaitAsync(Soon));
        Assert.Equal(2, await c.RiskObservations.ExecuteUpdateAsync(s => s.SetProperty(o => o.Country, "NZ")).WaitAsync(Soon));

        await using var after = await a.Database.BeginTransactionAsync().WaitAsync(Soon);
        Assert.Equal(0, Gate.Overruns);
    }

    [Fact]
    public async Task A_writer_that_waits_past_MaxWait_goes_on_to_SQLites_own_lock_and_is_counted()
    {
        await using var first = Context(out var a);
        await using var second = Context(out var b);
        var held = await WriterAsync(a);

        var waiting = b.Database.BeginTransactionAsync();
        using (var deadline = new CancellationTokenSource(SqliteWriteGate.MaxWait + TimeSpan.FromSeconds(5)))
        {
            while (Gate.Overruns == 0)
            {
                await Task.Delay(50, deadline.Token);
            }
        }

        // Past the queue it waits in SQLite's busy handler, and gets the lock once the first transaction ends.
        await held.CommitAsync();
        await using var started = await waiting.WaitAsync(Soon);
        Assert.Equal(1, Gate.Overruns);
    }

    private AsyncServiceScope Context(out TesseraDbContext db)
    {
        var scope = Services.CreateAsyncScope();
        db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        return scope;
    }

    /// <summary>A transaction that has written one row and stays open: the database's writer until it ends.</summary>
    private static async Task<IDbContextTransaction> WriterAsync(TesseraDbContext db)
    {
        var transaction = await db.Database.BeginTransactionAsync();
        db.RiskObservations.Add(Observation());
        await db.SaveChangesAsync();
        return transaction;
    }

    private static RiskObservationRecord Observation() =>
        new() { UserId = Guid.NewGuid(), Kind = "sign-in", OrganizationId = "acme", ObservedAt = DateTime.UtcNow };

    public async Task DisposeAsync() => await _storage.DisposeAsync();
}
