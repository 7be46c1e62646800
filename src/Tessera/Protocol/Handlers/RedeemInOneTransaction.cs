using Microsoft.EntityFrameworkCore;
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
    public sealed class Open(TesseraDbContext db, RequestTransaction transaction) : IOpenIddictServerHandler<ValidateTokenRequestContext>
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
    public sealed class Collect(TesseraDbContext db, RequestTransaction transaction) : IOpenIddictServerHandler<ProcessSignInContext>
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

    public sealed class Commit(RequestTransaction transaction, TesseraDbContext db, RevokeFamilyOnReplay replay) : IOpenIddictServerHandler<ApplyTokenResponseContext>
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
