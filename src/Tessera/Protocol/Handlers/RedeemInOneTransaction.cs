using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Storage;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// A code or refresh token is redeemed, and what replaces it stored, in one transaction. OpenIddict marks the old token
/// redeemed and then stores the new ones in separate writes: a database that went away between the two (a restart, a
/// failover, a node killed mid-request) left the old token spent with nothing issued for it, the client's retry was
/// taken for a replay, and the whole family was revoked. Now the writes from the redemption on commit together when
/// the response is ready (an error response too), or not at all when the request fails, and the retry redeems the
/// token as if the first attempt had never happened. The transaction starts at the redemption, after every check has
/// read what it needs, so SQLite's one write lock is held only while the new tokens are made.
/// </summary>
public static class RedeemInOneTransaction
{
    public static OpenIddictServerHandlerDescriptor OpenDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .UseScopedHandler<Open>()
        .SetOrder(int.MinValue + 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public static OpenIddictServerHandlerDescriptor BeginDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
        .UseScopedHandler<Begin>()
        .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order - 1)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public static OpenIddictServerHandlerDescriptor CommitDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
        .UseScopedHandler<Commit>()
        .SetOrder(int.MinValue + 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    /// <summary>The grants that redeem a stored token (a code or a refresh token) and store what replaces it.</summary>
    private static bool Redeems(OpenIddictRequest request) => request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType();

    /// <summary>
    /// One connection for the whole request: the token, session and user reads before the transaction would otherwise
    /// each take a connection from the pool and give it back, and each return costs a reset on PostgreSQL (and, on
    /// SQLite, registering EF Core's SQL functions again at the next open).
    /// </summary>
    public sealed class Open(TesseraDbContext db, TokenRequestTransaction transaction) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (Redeems(context.Request))
            {
                await transaction.OpenAsync(db, context.CancellationToken);
            }
        }
    }

    public sealed class Begin(TesseraDbContext db, TokenRequestTransaction transaction) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType == OpenIddictServerEndpointType.Token
                && Redeems(context.Request)
                && db.Database.CurrentTransaction is null)
            {
                await transaction.BeginAsync(db, context.CancellationToken);
            }
        }
    }

    public sealed class Commit(TokenRequestTransaction transaction) : IOpenIddictServerHandler<ApplyTokenResponseContext>
    {
        public async ValueTask HandleAsync(ApplyTokenResponseContext context) => await transaction.CommitAsync(context.CancellationToken);
    }
}

/// <summary>The token request's own transaction, if <see cref="RedeemInOneTransaction"/> began one (scoped: one per request).</summary>
public sealed class TokenRequestTransaction : IDisposable, IAsyncDisposable
{
    private TesseraDbContext? _db;
    private TesseraDbContext? _opened;

    /// <summary>True when something was added to the context to be saved with the commit (see <see cref="TesseraTokenStore"/>).</summary>
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

    public IDbContextTransaction? Current { get; private set; }

    /// <summary>Asks the commit to save the context first: what was added to it since its last save goes in with the transaction.</summary>
    public void SaveBeforeCommit() => _saveBeforeCommit = true;

    public async Task BeginAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        Current = await db.Database.BeginTransactionAsync(cancellationToken);

        // Each of the request's saves (the redemption and one per token stored, four in a refresh) would otherwise be
        // wrapped in a savepoint of its own, two more round trips each, so that a failed save could be retried inside
        // the transaction. Nothing here retries a save: a failed one fails the request, and the transaction with it.
        db.Database.AutoSavepointsEnabled = false;
        _db = db;
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (Current is { } current)
        {
            if (_saveBeforeCommit)
            {
                _saveBeforeCommit = false;
                await _db!.SaveChangesAsync(cancellationToken);
            }

            Current = null;
            await current.CommitAsync(cancellationToken);
            await current.DisposeAsync();
        }

        await DisposeAsync();
    }

    /// <summary>
    /// Gives the pooled context back as it was lent, its connection closed. A request that failed before its commit
    /// ends its transaction here, unfinished: nothing it wrote stays.
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
        _saveBeforeCommit = false;
        if (_db is not null)
        {
            _db.Database.AutoSavepointsEnabled = true;
            _db = null;
        }
    }
}
