using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Tessera.Protocol.Handlers;
using Tessera.Storage;

namespace Tessera.Protocol;

/// <summary>
/// OpenIddict's token store, except while a request collects its writes (<see cref="RequestTransaction"/>): a redeeming
/// token request (<see cref="RedeemInOneTransaction"/>), whose redemption and new token entries (a refresh makes three:
/// the new refresh token, the access token and the ID token) are written when it commits, all in one save, instead of
/// in one save each; and the authorization endpoint issuing a code (<see cref="IssueCodeInOneTransaction"/>), whose entry
/// is inserted once, complete, instead of inserted and then updated. Each save is a pass of the change tracker and a round trip to the database. Nothing is stored later
/// than before: the writes were uncommitted until the same commit anyway, and a request that fails before it leaves none
/// of them. The redemption still names the concurrency stamp the token had when it was read, so two redemptions of one
/// token are still told apart, at the commit.
/// </summary>
public sealed class TesseraTokenStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options,
    RequestTransaction transaction) : OpenIddictEntityFrameworkCoreTokenStore(cache, context, options)
{
    /// <summary>The base store's query for a token by its identifier (its application and authorization included, tracked), compiled.</summary>
    private static readonly CompiledQuery<Func<DbContext, string, CancellationToken, Task<OpenIddictEntityFrameworkCoreToken?>>> ById = new(() =>
        EF.CompileAsyncQuery((DbContext db, string id, CancellationToken _) => db.Set<OpenIddictEntityFrameworkCoreToken>()
            .Include(token => token.Application).Include(token => token.Authorization).AsTracking()
            .FirstOrDefault(token => token.Id == id)));

    /// <summary>As the base store: the entry this context already tracks, or else the stored one. Every token request that redeems asks it.</summary>
    public override async ValueTask<OpenIddictEntityFrameworkCoreToken?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        var db = await Context.GetDbContextAsync(cancellationToken);
        return db.ChangeTracker.Entries<OpenIddictEntityFrameworkCoreToken>().FirstOrDefault(entry => entry.Entity.Id == identifier)?.Entity
            ?? await ById.For(db)(db, identifier, cancellationToken);
    }

    /// <summary>
    /// As the base store's bulk revocation, but each revoked entry also gets a new concurrency stamp, as an update of one
    /// entry does: a redemption of one of them that is under way (checked before, written at its commit) then finds the
    /// token changed and writes nothing, instead of marking a revoked token redeemed.
    /// </summary>
    public override async ValueTask<long> RevokeByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        var db = await Context.GetDbContextAsync(cancellationToken);
        return await RevokeWithNewStampAsync(db.Set<OpenIddictEntityFrameworkCoreToken>().Where(token => token.Authorization!.Id == identifier), cancellationToken);
    }

    /// <inheritdoc cref="RevokeByAuthorizationIdAsync"/>
    public override async ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var db = await Context.GetDbContextAsync(cancellationToken);
        return await RevokeWithNewStampAsync(db.Set<OpenIddictEntityFrameworkCoreToken>().Where(token => token.Subject == subject), cancellationToken);
    }

    private static Task<int> RevokeWithNewStampAsync(IQueryable<OpenIddictEntityFrameworkCoreToken> tokens, CancellationToken cancellationToken)
    {
        var stamp = Guid.NewGuid().ToString();
        return tokens.Where(token => token.Status != OpenIddictConstants.Statuses.Revoked).ExecuteUpdateAsync(setters => setters
            .SetProperty(token => token.Status, OpenIddictConstants.Statuses.Revoked)
            .SetProperty(token => token.ConcurrencyToken, stamp), cancellationToken);
    }

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        if (!transaction.AddCollected(await Context.GetDbContextAsync(cancellationToken), token))
        {
            await base.CreateAsync(token, cancellationToken);
        }
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (db.Entry(token).State == EntityState.Added)
        {
            // Not stored yet: the change goes in with the entry itself. (Attaching an added entity would mark it as
            // stored, and the update would then miss its row.)
            token.ConcurrencyToken = Guid.NewGuid().ToString();
            return;
        }

        if (transaction.Collecting)
        {
            // What the base store does, but saved with the commit: the update names the stamp the token was read with.
            db.Attach(token);
            token.ConcurrencyToken = Guid.NewGuid().ToString();
            db.Update(token);
            transaction.SaveBeforeCommit();
            return;
        }

        await base.UpdateAsync(token, cancellationToken);
    }
}
