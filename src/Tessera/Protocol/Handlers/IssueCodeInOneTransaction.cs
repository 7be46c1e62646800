using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// A code is issued in one write. Its authorization (the token family it starts), the family's tie to the SSO session
/// and the code's own entry were four saves: the authorization, the tie, the entry, and the entry again once the code
/// was made (its payload and reference). Each save is a pass of EF Core's change tracker and a round trip, and on
/// SQLite a turn of the one write lock. From the moment the authorization endpoint decides to issue a code
/// (<c>AuthorizeModel</c>), the stores collect these writes; this handler makes them, in one transaction, before the
/// response leaves. A request that fails before it writes none of them: there is no authorization without its code,
/// and no code whose authorization is not tied to its session (which is what lets a sign-out end the family).
/// </summary>
public sealed class IssueCodeInOneTransaction(RequestTransaction transaction) : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    /// <summary>First of the response's handlers: the audit of a refused request (at the next order) sees what was stored.</summary>
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
        .UseScopedHandler<IssueCodeInOneTransaction>()
        .SetOrder(int.MinValue + 50_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        // Only new rows are collected here, and a new row cannot have been changed by another request.
        if (!await transaction.CommitAsync(context.CancellationToken))
        {
            throw new InvalidOperationException("The entries of a new authorization code were found changed before they were stored.");
        }
    }
}
