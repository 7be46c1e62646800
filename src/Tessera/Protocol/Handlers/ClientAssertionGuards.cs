using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 7523 §3 (3): a client assertion addressed elsewhere fails client authentication, so the answer is
/// <c>invalid_client</c> (OpenIddict's audience check would say <c>invalid_token</c>).
/// </summary>
public sealed class ClientAssertionAudienceCheck : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
        .UseSingletonHandler<ClientAssertionAudienceCheck>()
        .SetOrder(Protection.ValidateAudiences.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (context.Principal is { } principal && principal.HasTokenType(TokenTypeIdentifiers.Private.ClientAssertion)
            && !principal.GetAudiences().Any(context.ValidAudiences.Contains))
        {
            context.Reject(Errors.InvalidClient, "The client assertion is not addressed to this server.");
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// RFC 7523 §3 (7): each client assertion is used once. Its <c>jti</c> is remembered until the assertion expires;
/// an assertion without one, or seen before, fails client authentication.
/// </summary>
public sealed class RejectReplayedClientAssertions(TesseraDbContext db, TimeProvider time) : IOpenIddictServerHandler<ValidateTokenContext>
{
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
        .UseScopedHandler<RejectReplayedClientAssertions>()
        .SetOrder(Protection.ValidateAuthorizationEntry.Descriptor.Order + 500)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (context.Principal is not { } principal || !principal.HasTokenType(TokenTypeIdentifiers.Private.ClientAssertion))
        {
            return;
        }

        var jti = principal.GetClaim(Claims.JwtId);
        var clientId = principal.GetClaim(Claims.Issuer) ?? principal.GetClaim(Claims.Subject) ?? "";
        var now = time.GetUtcNow();
        var expires = principal.GetExpirationDate();
        if (string.IsNullOrEmpty(jti) || jti.Length > 200 || expires is null || expires.Value > now + MaxLifetime)
        {
            context.Reject(Errors.InvalidClient, "The client assertion needs a jti and an expiry at most ten minutes ahead.");
            return;
        }

        db.UsedClientAssertions.Add(new UsedClientAssertionRecord { ClientId = clientId, TokenId = jti, ExpiresAt = expires.Value.UtcDateTime });
        try
        {
            await db.SaveChangesAsync(context.CancellationToken);
        }
        catch (DbUpdateException exception) when (!StorageOutage.IsUnavailable(exception))
        {
            context.Reject(Errors.InvalidClient, "The client assertion was already used.");
        }
    }
}
