using System.Security.Claims;
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

        await RevokeAsync(context.Transaction, context.Principal, context.TokenId, context.AuthorizationId, context.CancellationToken);
    }

    /// <summary>Revokes the family of a spent token presented again, ends its session, and audits it; also for a replay found at the commit.</summary>
    public async Task RevokeAsync(OpenIddictServerTransaction transaction, ClaimsPrincipal? principal, string tokenId,
        string? authorizationId, CancellationToken cancellationToken)
    {
        var type = principal?.GetTokenType();
        var request = transaction.GetHttpRequest();
        var detected = new AuditEvent(
            type == TokenTypeIdentifiers.RefreshToken ? AuditEvents.RefreshTokenReuseDetected : AuditEvents.AuthorizationCodeReplayDetected,
            AuditEvent.Failure)
        {
            ClientId = principal?.GetPresenters().FirstOrDefault(),
            UserId = principal?.GetClaim(Claims.Subject),
            OrganizationId = principal?.GetClaim(TesseraClaims.Organization),
            IpAddress = request?.HttpContext.Connection.RemoteIpAddress?.ToString(),
            UserAgent = request?.Headers.UserAgent.ToString(),
            Reason = "a spent token was presented again; its family was revoked",
            Detail = new Dictionary<string, string?> { ["token_id"] = tokenId, ["authorization_id"] = authorizationId },
        };
        // The revocation and its audit rows in one transaction: both are stored, or neither.
        await using var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        if (!string.IsNullOrEmpty(authorizationId))
        {
            await revocation.EndSessionOfFamilyAsync(authorizationId, "a spent token was presented again", detected, cancellationToken);
        }

        audit.Stage(db, detected);
        await db.SaveChangesAsync(cancellationToken);
        if (own is not null)
        {
            await own.CommitAsync(cancellationToken);
        }
    }
}
