using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// A code or refresh token is redeemed, and what replaces it stored, in one transaction. OpenIddict marks the old token
/// redeemed and then stores the new ones in separate writes: a database that went away between the two (a restart, a
/// failover, a node killed mid-request) left the old token spent with nothing issued for it, the client's retry was
/// taken for a replay, and the whole family was revoked. Now the writes from the redemption on are collected and made
/// together when the response is ready (an error response too), or not at all when the request fails, and the retry
/// redeems the token as if the first attempt had never happened.
/// <para>
/// The transaction begins at that commit, so SQLite's one write lock, and PostgreSQL's lock on the token's row, are
/// held only for the writes themselves, not while the new tokens are signed. The redemption's update names the
/// concurrency stamp the token had when it was checked, so of two requests that found the same token unspent (a replay
/// racing the legitimate use) only the first to commit redeems it. The other writes nothing, is answered
/// <c>invalid_grant</c> and revokes the family, as a replay found at the check does (RFC 9700 §4.14.2); a token revoked
/// in between (a sign-out, a deprovisioning) is refused the same way, with nothing more to revoke.
/// </para>
/// </summary>
public static class RedeemInOneTransaction
{
    public static OpenIddictServerHandlerDescriptor OpenDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .UseScopedHandler<Open>()
        .SetOrder(int.MinValue + 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public static OpenIddictServerHandlerDescriptor CollectDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
        .UseScopedHandler<Collect>()
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

    /// <summary>From the redemption on, the token store collects its writes for the commit (see <see cref="TesseraTokenStore"/>).</summary>
    public sealed class Collect(TesseraDbContext db, TokenRequestTransaction transaction) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType == OpenIddictServerEndpointType.Token
                && Redeems(context.Request)
                && db.Database.CurrentTransaction is null)
            {
                transaction.Collect(db);
            }

            return ValueTask.CompletedTask;
        }
    }

    public sealed class Commit(TokenRequestTransaction transaction, TesseraDbContext db, RevokeFamilyOnReplay replay) : IOpenIddictServerHandler<ApplyTokenResponseContext>
    {
        public async ValueTask HandleAsync(ApplyTokenResponseContext context)
        {
            if (await transaction.CommitAsync(context.CancellationToken))
            {
                return;
            }

            // Another request changed the token after this one checked it, and nothing this one made is stored. If that
            // request redeemed it, this one is a replay; if it revoked it (a sign-out, a deprovisioning), it is just late.
            var authentication = context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!);
            var principal = context.Request?.IsRefreshTokenGrantType() == true
                ? authentication?.RefreshTokenPrincipal
                : authentication?.AuthorizationCodePrincipal;
            var tokenId = principal?.GetTokenId();
            var spent = tokenId is not null && await db.Set<OpenIddictEntityFrameworkCoreToken>().AsNoTracking()
                .AnyAsync(token => token.Id == tokenId && token.Status == Statuses.Redeemed, context.CancellationToken);
            if (spent)
            {
                await replay.RevokeAsync(context.Transaction, principal, tokenId!, principal!.GetAuthorizationId(), context.CancellationToken);
            }

            var code = principal?.GetTokenType() == TokenTypeIdentifiers.Private.AuthorizationCode
                ? spent ? "ID2010" : "ID2016"
                : spent ? "ID2012" : "ID2018";
            context.Response = new OpenIddictResponse
            {
                Error = Errors.InvalidGrant,
                ErrorDescription = OpenIddictResources.GetResourceString(code),
                ErrorUri = OpenIddictResources.FormatID8000(code),
            };
        }
    }
}

/// <summary>
/// The token request's own transaction (scoped: one per request): what <see cref="RedeemInOneTransaction"/> collected
/// from the redemption on, written at the commit.
/// </summary>
public sealed class TokenRequestTransaction : IDisposable, IAsyncDisposable
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

    /// <summary>True from the redemption until the commit: the redemption and the new token entries are written then, not when they are made.</summary>
    public bool Collecting => _db is not null;

    public IDbContextTransaction? Current { get; private set; }

    /// <summary>Asks the commit to save the context first: what was added to it or changed since its last save goes in with the transaction.</summary>
    public void SaveBeforeCommit() => _saveBeforeCommit = true;

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
