using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Tessera.Protocol.Handlers;
using Tessera.Storage;

namespace Tessera.Protocol;

/// <summary>
/// A protocol request's own transaction (scoped: one per request): the writes the stores collected while the request
/// was answered, made in one save at the commit. A token request collects from its redemption on
/// (<see cref="RedeemInOneTransaction"/>), the authorization endpoint from its decision to issue a code
/// (<see cref="IssueCodeInOneTransaction"/>).
/// </summary>
public sealed class RequestTransaction : IDisposable, IAsyncDisposable
{
    private TesseraDbContext? _db;
    private TesseraDbContext? _opened;

    /// <summary>True when something was added to the context or changed in it to be saved with the commit.</summary>
    private bool _saveBeforeCommit;

    /// <summary>Keeps the context's connection open until the request ends.</summary>
    public async Task OpenAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        if (_opened is null)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            _opened = db;
        }
    }

    /// <summary>True from <see cref="Collect"/> until the commit: the stores' writes are made then, not when they are asked for.</summary>
    public bool Collecting => _db is not null;

    public IDbContextTransaction? Current { get; private set; }

    /// <summary>Asks the commit to save the context first: what was added to it or changed since its last save goes in with the transaction.</summary>
    public void SaveBeforeCommit() => _saveBeforeCommit = true;

    /// <summary>
    /// A store's new entry: while writes are collected, added to <paramref name="db"/> to be inserted at the commit, and
    /// true; otherwise false, and the store saves it itself. Adding gives the entry its identifier at once (OpenIddict's
    /// entities make it when they are made), which the token or code being issued carries.
    /// </summary>
    public bool AddCollected(DbContext db, object entry)
    {
        if (!Collecting)
        {
            return false;
        }

        db.Add(entry);
        SaveBeforeCommit();
        return true;
    }

    /// <summary>From now until the commit, the token and authorization stores collect their writes in <paramref name="db"/>.</summary>
    public void Collect(TesseraDbContext db)
    {
        _db = db;
        db.SavingChanges += BeginAtFirstSave;
    }

    /// <summary>
    /// A save of something else while writes are collected (none of Tessera's handlers makes one) begins the transaction
    /// there, so that the collected writes it carries commit with the rest, or not at all.
    /// </summary>
    private void BeginAtFirstSave(object? sender, SavingChangesEventArgs e)
    {
        if (Current is null && _db is { } db)
        {
            Begin(db, db.Database.BeginTransaction());
        }
    }

    private void Begin(TesseraDbContext db, IDbContextTransaction transaction)
    {
        Current = transaction;

        // The collected writes go in one save, and nothing here retries a failed one inside the transaction: a failed
        // save fails the request, and the transaction with it. A savepoint around it would be two more round trips.
        db.Database.AutoSavepointsEnabled = false;
    }

    /// <summary>
    /// Writes what was collected and commits. False when the token being redeemed was changed by another request since
    /// this one read it (redeemed or revoked): then nothing is written.
    /// </summary>
    public async Task<bool> CommitAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_db is { } db && _saveBeforeCommit)
            {
                if (Current is null)
                {
                    Begin(db, await db.Database.BeginTransactionAsync(cancellationToken));
                }

                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch (DbUpdateConcurrencyException exception) when (!StorageOutage.IsUnavailable(exception))
                {
                    return false; // the dispose below rolls the transaction back and drops what was collected
                }

                _saveBeforeCommit = false;
            }

            if (Current is { } current)
            {
                Current = null;
                await current.CommitAsync(cancellationToken);
                await current.DisposeAsync();
            }

            return true;
        }
        finally
        {
            await DisposeAsync();
        }
    }

    /// <summary>
    /// Gives the pooled context back as it was lent, its connection closed. A request that failed before its commit
    /// ends its transaction here, unfinished, and what it collected is dropped: nothing it wrote stays.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Current is { } open)
        {
            Current = null;
            await open.DisposeAsync();
        }

        Lend();
        if (_opened is { } db)
        {
            _opened = null;
            await db.Database.CloseConnectionAsync();
        }
    }

    public void Dispose()
    {
        if (Current is { } open)
        {
            Current = null;
            open.Dispose();
        }

        Lend();
        if (_opened is { } db)
        {
            _opened = null;
            db.Database.CloseConnection();
        }
    }

    private void Lend()
    {
        if (_db is { } db)
        {
            db.SavingChanges -= BeginAtFirstSave;
            if (_saveBeforeCommit)
            {
                db.ChangeTracker.Clear();
            }

            db.Database.AutoSavepointsEnabled = true;
            _db = null;
        }

        _saveBeforeCommit = false;
    }
}
