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
/// RFC 6749 §4.1.2 and RFC 9700 §4.14.2: a spent authorization code or refresh token presented again means it
/// leaked. The whole family (the authorization and every token from it, access tokens included) is revoked, and the
/// SSO session it was granted under ends everywhere (back-channel logout, SETs), before OpenIddict refuses the request.
/// </summary>
public sealed class RevokeFamilyOnReplay(IOpenIddictTokenManager tokens, RevocationService revocation, TesseraDbContext db, AuditLog audit) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
        .AddFilter<OpenIddictServerHandlerFilters.RequireTokenIdResolved>()
        .UseScopedHandler<RevokeFamilyOnReplay>()
        .SetOrder(Protection.ValidateTokenEntry.Descriptor.Order - 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        var type = context.Principal?.GetTokenType();
        if (type is not (TokenTypeIdentifiers.Private.AuthorizationCode or TokenTypeIdentifiers.RefreshToken) || context.TokenId is null)
        {
            return;
        }

        var token = await tokens.FindByIdAsync(context.TokenId, context.CancellationToken);
        if (token is null || !await tokens.HasStatusAsync(token, Statuses.Redeemed, context.CancellationToken))
        {
            return;
        }

        var request = context.Transaction.GetHttpRequest();
        var detected = new AuditEvent(
            type == TokenTypeIdentifiers.RefreshToken ? AuditEvents.RefreshTokenReuseDetected : AuditEvents.AuthorizationCodeReplayDetected,
            AuditEvent.Failure)
        {
            ClientId = context.Principal?.GetPresenters().FirstOrDefault(),
            UserId = context.Principal?.GetClaim(Claims.Subject),
            OrganizationId = context.Principal?.GetClaim(TesseraClaims.Organization),
            IpAddress = request?.HttpContext.Connection.RemoteIpAddress?.ToString(),
            UserAgent = request?.Headers.UserAgent.ToString(),
            Reason = "a spent token was presented again; its family was revoked",
            Detail = new Dictionary<string, string?> { ["token_id"] = context.TokenId, ["authorization_id"] = context.AuthorizationId },
        };
        // The revocation and its audit rows in one transaction: both are stored, or neither.
        await using var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(context.CancellationToken) : null;
        if (!string.IsNullOrEmpty(context.AuthorizationId))
        {
            await revocation.EndSessionOfFamilyAsync(context.AuthorizationId, "a spent token was presented again", detected, context.CancellationToken);
        }

        audit.Stage(db, detected);
        await db.SaveChangesAsync(context.CancellationToken);
        if (own is not null)
        {
            await own.CommitAsync(context.CancellationToken);
        }
    }
}
