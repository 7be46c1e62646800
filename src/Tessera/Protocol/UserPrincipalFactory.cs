using System.Security.Claims;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Protocol.Handlers;
using Tessera.Sessions;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tessera.Protocol;

/// <summary>
/// Builds what a signed-in user's tokens say. Scopes are those the client asked for and may have; a scope that
/// a mapping rule grants anywhere is issued only when a rule granted it to this user. Each claim goes only to
/// the tokens that need it.
/// </summary>
public sealed class UserPrincipalFactory(ConnectionDirectory directory, AudienceSelector audiences)
{
    /// <param name="grants">What the rules grant the user now: at sign-in, and through provisioned groups (DirectoryGrants).</param>
    public ClaimsPrincipal Create(OpenIddictRequest request, ClientOptions client, UserRecord user, SessionRecord session, SessionGrants grants)
    {
        var restricted = directory.RuleGrantedScopes();
        var scopes = request.GetScopes()
            .Where(s => client.Scopes.Contains(s, StringComparer.Ordinal) || s == Scopes.OpenId)
            .Where(s => !restricted.Contains(s) || grants.Scopes.Contains(s, StringComparer.Ordinal))
            .ToList();

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id.ToString());
        identity.SetClaim(TesseraClaims.SessionId, session.Id);
        identity.SetClaim(TesseraClaims.Organization, user.OrganizationId);
        identity.SetClaim(Claims.AuthenticationTime, new DateTimeOffset(session.AuthenticatedAt, TimeSpan.Zero).ToUnixTimeSeconds());

        if (scopes.Contains(Scopes.Email) && user.Email is not null)
        {
            identity.SetClaim(Claims.Email, user.Email);
            identity.SetClaim(Claims.EmailVerified, user.EmailVerified);
        }

        if (scopes.Contains(Scopes.Profile))
        {
            identity.SetClaim(Claims.Name, user.Name);
            identity.SetClaim(Claims.GivenName, user.GivenName);
            identity.SetClaim(Claims.FamilyName, user.FamilyName);
        }

        foreach (var (name, value) in grants.Claims)
        {
            identity.SetClaim(name, value);
        }

        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(scopes);
        principal.SetResources(audiences.Select(client, request.GetResources(), scopes));
        principal.SetDestinations(claim => Destinations(claim, grants));
        return principal;
    }

    private static IEnumerable<string> Destinations(Claim claim, SessionGrants grants) => claim.Type switch
    {
        Claims.Subject => [OpenIddictConstants.Destinations.AccessToken, OpenIddictConstants.Destinations.IdentityToken],
        TesseraClaims.SessionId or TesseraClaims.Organization => [OpenIddictConstants.Destinations.AccessToken, OpenIddictConstants.Destinations.IdentityToken],
        Claims.AuthenticationTime => [OpenIddictConstants.Destinations.IdentityToken],
        Claims.Email or Claims.EmailVerified or Claims.Name or Claims.GivenName or Claims.FamilyName => [OpenIddictConstants.Destinations.IdentityToken],
        _ when grants.Claims.ContainsKey(claim.Type) => [OpenIddictConstants.Destinations.AccessToken, OpenIddictConstants.Destinations.IdentityToken],
        _ => [],
    };
}
