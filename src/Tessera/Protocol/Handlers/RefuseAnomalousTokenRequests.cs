using Microsoft.AspNetCore;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Exchange;
using Tessera.Hosting;
using Tessera.Risk;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// Anomaly detection at the token endpoint: a refresh, or an exchange for a user, is looked at by the same rules as a
/// sign-in (and by whether the token is used from another country than its session's sign-in). What the rules ask to
/// stop is refused with <c>invalid_grant</c> and a reference that finds the audit row; a revocation or a disabled
/// account takes effect within the request. Nothing runs when no rule applies to the user's organization.
/// </summary>
public sealed class RefuseAnomalousTokenRequests(TesseraConfiguration configuration, IServiceProvider services) : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
        .UseScopedHandler<RefuseAnomalousTokenRequests>()
        .SetOrder(Math.Max(IssueExchangedTokens.Descriptor.Order, ApplyCurrentGrantsOnRefresh.Descriptor.Order) + 500)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        var kind = context.Request.IsRefreshTokenGrantType() ? AnomalyResponse.Refresh
            : context.Request.IsTokenExchangeGrantType() ? AnomalyResponse.Exchange
            : null;
        if (kind is null || context.IsRejected || context.Principal is not { } principal
            || !AnomalyResponse.Applies(configuration, principal.GetClaim(TesseraClaims.Organization))
            || !Guid.TryParse(principal.GetClaim(Claims.Subject), out var userId)
            || context.Transaction.GetHttpRequest()?.HttpContext is not { } http)
        {
            return;
        }

        // Resolved only here: the anomaly services (revocation, signals, the token managers) cost every refresh and
        // exchange their construction otherwise.
        var anomalies = services.GetRequiredService<AnomalyResponse>();
        var user = await services.GetRequiredService<TesseraDbContext>().Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, context.CancellationToken);
        if (user is null)
        {
            return;
        }

        var session = principal.GetClaim(TesseraClaims.SessionId) ?? context.SubjectTokenPrincipal?.GetClaim(TesseraClaims.SessionId);
        var assessment = await anomalies.AssessTokenRequestAsync(http, user, session, kind, context.CancellationToken);
        if (assessment.Verdict != AnomalyVerdict.Allow)
        {
            context.Reject(Errors.InvalidGrant, $"The request was refused to protect the account (reference {assessment.Reference}).");
        }
    }
}
