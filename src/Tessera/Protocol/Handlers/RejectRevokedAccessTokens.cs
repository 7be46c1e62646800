using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>An access token without a stored entry is checked against the deny list that revocation writes.</summary>
public sealed class RejectRevokedAccessTokens(TesseraDbContext db) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
        .UseScopedHandler<RejectRevokedAccessTokens>()
        .SetOrder(Protection.ValidateAuthorizationEntry.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (context.Principal is not { } principal || !principal.HasTokenType(TokenTypeIdentifiers.AccessToken) || !string.IsNullOrEmpty(context.TokenId))
        {
            return;
        }

        var jti = principal.GetClaim(Claims.JwtId);
        if (string.IsNullOrEmpty(jti) || await db.RevokedTokens.AnyAsync(r => r.TokenId == jti, context.CancellationToken))
        {
            context.Reject(Errors.InvalidToken, "The token has been revoked.");
        }
    }
}
