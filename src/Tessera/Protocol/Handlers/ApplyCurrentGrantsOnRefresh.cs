using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Directory;
using Tessera.Federation;
using Tessera.Sessions;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// A refresh issues what the rules grant now, not what they granted at sign-in: a scope or claim that a rule
/// granted through a provisioned group the user has since left is dropped. A refresh never widens a grant
/// (RFC 6749 §6); a new grant comes with the next authorization.
/// </summary>
public sealed class ApplyCurrentGrantsOnRefresh(SessionStore sessions, DirectoryGrants directoryGrants, ConnectionDirectory directory)
    : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
        .UseScopedHandler<ApplyCurrentGrantsOnRefresh>()
        .SetOrder(RequireLiveSession.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        if (!context.Request.IsRefreshTokenGrantType() || context.Principal is not { } principal
            || await sessions.FindActiveByIdAsync(principal.GetClaim(TesseraClaims.SessionId), context.CancellationToken) is not { } session)
        {
            return;
        }

        var grants = await directoryGrants.ForAsync(session.UserId, session.OrganizationId, SessionGrants.FromJson(session.Grants), context.CancellationToken);
        var restricted = directory.RuleGrantedScopes();
        principal.SetScopes(principal.GetScopes().Where(s => !restricted.Contains(s) || grants.Scopes.Contains(s, StringComparer.Ordinal)));

        var organization = directory.FindOrganization(session.OrganizationId);
        foreach (var name in organization?.Rules.SelectMany(r => r.Grant.Claims.Keys).Distinct(StringComparer.Ordinal) ?? [])
        {
            if (!grants.Claims.ContainsKey(name))
            {
                principal.RemoveClaims(name);
            }
        }
    }
}
