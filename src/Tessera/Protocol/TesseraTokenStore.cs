using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Tessera.Protocol.Handlers;

namespace Tessera.Protocol;

/// <summary>
/// OpenIddict's token store, except while a redeeming token request collects its writes
/// (<see cref="RedeemInOneTransaction"/>): then the redemption and the new token entries (a refresh makes three: the new
/// refresh token, the access token and the ID token) are written when that request commits, all in one save, instead of
/// in one save each. Each save is a pass of the change tracker and a round trip to the database. Nothing is stored later
/// than before: the writes were uncommitted until the same commit anyway, and a request that fails before it leaves none
/// of them. The redemption still names the concurrency stamp the token had when it was read, so two redemptions of one
/// token are still told apart, at the commit.
/// </summary>
public sealed class TesseraTokenStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options,
    TokenRequestTransaction transaction) : OpenIddictEntityFrameworkCoreTokenStore(cache, context, options)
{
    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        if (!transaction.Collecting)
        {
            await base.CreateAsync(token, cancellationToken);
            return;
        }

        // Adding gives the entry its identifier at once (the key is generated on the client), which the token carries.
        (await Context.GetDbContextAsync(cancellationToken)).Add(token);
        transaction.SaveBeforeCommit();
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
