using Microsoft.EntityFrameworkCore;
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

    public sealed class Begin(TesseraDbContext db, TokenRequestTransaction transaction) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType == OpenIddictServerEndpointType.Token
                && (context.Request.IsAuthorizationCodeGrantType() || context.Request.IsRefreshTokenGrantType())
                && db.Database.CurrentTransaction is null)
            {
                transaction.Current = await db.Database.BeginTransactionAsync(context.CancellationToken);
            }
        }
    }

    public sealed class Commit(TokenRequestTransaction transaction) : IOpenIddictServerHandler<ApplyTokenResponseContext>
    {
        public async ValueTask HandleAsync(ApplyTokenResponseContext context)
        {
            if (transaction.Current is { } current)
            {
                transaction.Current = null;
                await current.CommitAsync(context.CancellationToken);
                await current.DisposeAsync();
            }
        }
    }
}

/// <summary>The token request's own transaction, if <see cref="RedeemInOneTransaction"/> began one (scoped: one per request).</summary>
public sealed class TokenRequestTransaction
{
    public Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction? Current { get; set; }
}
