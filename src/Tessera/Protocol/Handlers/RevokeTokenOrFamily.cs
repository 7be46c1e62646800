using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Microsoft.AspNetCore;
using OpenIddict.Server.AspNetCore;
using Tessera.Audit;
using Tessera.Sessions;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 7009 §2.1. A stored token is revoked; a refresh token takes its family with it (access tokens from the
/// same grant included). An access token with no stored entry (client credentials) goes on a deny list until it
/// would have expired. Replaces OpenIddict's handler, which cannot revoke unstored tokens.
/// </summary>
public sealed class RevokeTokenOrFamily(
    IOpenIddictTokenManager tokens,
    RevocationService revocation,
    TesseraDbContext db,
    AuditLog audit,
    TimeProvider time) : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
        .UseScopedHandler<RevokeTokenOrFamily>()
        .SetOrder(Revocation.RevokeToken.Descriptor.Order)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        var principal = context.GenericTokenPrincipal ?? throw new InvalidOperationException("The token principal is missing.");
        var tokenId = principal.GetTokenId();
        var authorizationId = principal.GetAuthorizationId();
        string revokedId;

        // The revocation and its audit row in one transaction: both are stored, or neither.
        await using var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(context.CancellationToken) : null;
        if (!string.IsNullOrEmpty(tokenId))
        {
            var token = await tokens.FindByIdAsync(tokenId, context.CancellationToken);
            if (token is null)
            {
                context.Reject(Errors.InvalidToken, "The token is not valid.");
                return;
            }

            await tokens.TryRevokeAsync(token, context.CancellationToken);
            if (principal.HasTokenType(TokenTypeIdentifiers.RefreshToken) && !string.IsNullOrEmpty(authorizationId))
            {
                await revocation.RevokeFamilyAsync(authorizationId, context.CancellationToken);
            }

            revokedId = tokenId;
        }
        else if (principal.HasTokenType(TokenTypeIdentifiers.AccessToken) && principal.GetClaim(Claims.JwtId) is { Length: > 0 } jti)
        {
            // One statement, so two revocations of the same token at once both succeed (RFC 7009 §2.2) instead of
            // the second colliding on the key after both found it absent.
            var now = time.GetUtcNow().UtcDateTime;
            var expires = (principal.GetExpirationDate() ?? time.GetUtcNow().AddDays(1)).UtcDateTime;
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"INSERT INTO \"revoked_tokens\" (\"TokenId\", \"RevokedAt\", \"ExpiresAt\") VALUES ({jti}, {now}, {expires}) ON CONFLICT (\"TokenId\") DO NOTHING",
                context.CancellationToken);

            revokedId = jti;
        }
        else
        {
            context.Reject(Errors.UnsupportedTokenType, "This token cannot be revoked.");
            return;
        }

        var request = context.Transaction.GetHttpRequest();
        audit.Stage(db, new AuditEvent(AuditEvents.TokenRevoked, AuditEvent.Success)
        {
            ClientId = context.Request.ClientId,
            UserId = principal.GetClaim(Claims.Subject),
            OrganizationId = principal.GetClaim(TesseraClaims.Organization),
            IpAddress = request?.HttpContext.Connection.RemoteIpAddress?.ToString(),
            UserAgent = request?.Headers.UserAgent.ToString(),
            Detail = new Dictionary<string, string?>
            {
                ["token_type"] = principal.GetTokenType(),
                ["token_id"] = revokedId,
                ["authorization_id"] = authorizationId,
            },
        });
        await db.SaveChangesAsync(context.CancellationToken);
        if (own is not null)
        {
            await own.CommitAsync(context.CancellationToken);
        }
    }
}
