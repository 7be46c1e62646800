using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// A user's token is valid only while the user is enabled and only if it was issued after the user's access was
/// last revoked (DESIGN.md invariant 6). This covers the tokens that have no stored entry to revoke, and keeps
/// revoked tokens dead when the user is enabled again. Read from the database on every validation, so it holds
/// on every node at once.
/// </summary>
public sealed class RejectTokensOfDisabledUsers(TesseraDbContext db, LookupConnections lookups) : IOpenIddictServerHandler<ValidateTokenContext>
{
    private const string UserStateSql = """
        SELECT "DisabledAt", "TokensValidAfter" FROM users WHERE "Id" = @id
        """;

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
        .UseScopedHandler<RejectTokensOfDisabledUsers>()
        .SetOrder(RejectRevokedAccessTokens.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        // Client credentials tokens name a client, not a user; every user's subject is a UUID.
        if (context.Principal is not { } principal || !Guid.TryParse(principal.GetClaim(Claims.Subject), out var userId))
        {
            return;
        }

        await using var lookup = await lookups.OpenAsync(db, context.CancellationToken);
        var command = lookup.Command(UserStateSql, "@id");
        command.Parameters[0].Value = lookup.Guid(userId);
        await using var reader = await command.ExecuteReaderAsync(context.CancellationToken);
        if (!await reader.ReadAsync(context.CancellationToken))
        {
            return;
        }

        if (!reader.IsDBNull(0))
        {
            context.Reject(Errors.InvalidToken, "The user is disabled.");
            return;
        }

        var issuedAt = principal.GetCreationDate();
        if (!reader.IsDBNull(1) && (issuedAt is null || issuedAt.Value.UtcDateTime < DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc)))
        {
            context.Reject(Errors.InvalidToken, "The token was issued before the user's access was revoked.");
        }
    }
}
