using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Tessera.Protocol.Handlers;

namespace Tessera.Protocol;

/// <summary>
/// OpenIddict's token store, except for the token entries a redeeming token request makes inside its own transaction
/// (<see cref="RedeemInOneTransaction"/>): those are written when that transaction commits, all in one save, instead
/// of in one save each. A refresh makes three entries (the new refresh token, the access token and the ID token), and
/// each save is a pass of the change tracker and a round trip to the database. Nothing is stored later than before:
/// the entries were uncommitted until the same commit anyway, and a request that fails before it leaves none of them.
/// The redemption itself is not deferred; it is the write that tells two redemptions of one token apart.
/// </summary>
public sealed class TesseraTokenStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options,
    TokenRequestTransaction transaction) : OpenIddictEntityFrameworkCoreTokenStore(cache, context, options)
{
    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        if (transaction.Current is null)
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

        await base.UpdateAsync(token, cancellationToken);
    }
}
