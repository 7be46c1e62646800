using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Tessera.Protocol;

/// <summary>
/// OpenIddict's authorization store, except while the authorization endpoint collects the writes of the code it issues
/// (<see cref="Handlers.IssueCodeInOneTransaction"/>): then a new authorization is stored with the code, in the
/// request's one save, instead of in a save of its own.
/// </summary>
public sealed class TesseraAuthorizationStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options,
    RequestTransaction transaction) : OpenIddictEntityFrameworkCoreAuthorizationStore(cache, context, options)
{
    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreAuthorization authorization, CancellationToken cancellationToken)
    {
        if (!transaction.AddCollected(await Context.GetDbContextAsync(cancellationToken), authorization))
        {
            await base.CreateAsync(authorization, cancellationToken);
        }
    }
}
