using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Tessera.Audit;
using Tessera.Federation;
using Tessera.Protocol;
using Tessera.Sessions;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tessera.Pages;

/// <summary>
/// The authorization endpoint (OpenID Connect Core §3.1.2), after OpenIddict validated the request. With a live
/// SSO session a code is issued at once; otherwise the person is sent to sign in upstream and comes back here.
/// Requests OpenIddict cannot answer with a redirect (bad client, bad redirect URI) are shown here, status 400.
/// </summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class AuthorizeModel(
    ClientRegistry clients,
    SessionStore sessions,
    BrowserCookies cookies,
    SignInRouter router,
    UserPrincipalFactory principals,
    Directory.DirectoryGrants directoryGrants,
    IOpenIddictApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations,
    TesseraDbContext db,
    RequestTransaction transaction,
    AuditLog audit,
    Hosting.TesseraIssuer issuer,
    ParameterLimits parameterLimits,
    TimeProvider time) : PageModel
{
    public const string OrganizationParameter = "organization";
    public const string ConnectionParameter = "connection";

    public ErrorView View { get; private set; } = new("Sign-in request refused", Errors.InvalidRequest, null);

    public Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) => HandleAsync(cancellationToken);

    public Task<IActionResult> OnPostAsync(CancellationToken cancellationToken) => HandleAsync(cancellationToken);

    private async Task<IActionResult> HandleAsync(CancellationToken cancellationToken)
    {
        var refused = HttpContext.GetOpenIddictServerResponse();
        if (refused?.Error is not null)
        {
            var invalid = HttpContext.GetOpenIddictServerRequest();
            var redirectUri = AuthorizationErrorResponse.SafeRedirectUri(invalid, clients.Find(invalid?.ClientId), parameterLimits);
            Audit(AuditEvents.AuthorizationRefused, AuditEvent.Failure, invalid?.ClientId, $"{refused.Error}: {refused.ErrorDescription}", redirectUri is not null);
            return redirectUri is not null
                ? AuthorizationErrorResponse.Redirect(redirectUri, invalid!, issuer.Name, refused.Error, refused.ErrorDescription)
                : ShowError(refused.Error, refused.ErrorDescription); // the client or redirect URI is what is wrong: never redirect
        }

        var request = HttpContext.GetOpenIddictServerRequest();
        var client = clients.Find(request?.ClientId);
        if (request is null || client is null)
        {
            return ShowError(Errors.InvalidRequest, "This is not a valid sign-in request.");
        }

        var (session, user) = await sessions.FindByCookieWithUserAsync(cookies.ReadSession(HttpContext), cancellationToken);
        var organizationHint = (string?)request[OrganizationParameter];
        var connectionHint = (string?)request[ConnectionParameter];
        var mustAuthenticate = session is null
            || request.HasPromptValue(PromptValues.Login)
            || (request.MaxAge is { } maxAge && time.GetUtcNow().UtcDateTime - session.AuthenticatedAt > TimeSpan.FromSeconds(maxAge))
            || (organizationHint is not null && organizationHint != session.OrganizationId)
            || (connectionHint is not null && connectionHint != session.ConnectionId);

        if (!mustAuthenticate)
        {
            if (user is not null && user.DisabledAt is null)
            {
                return await IssueAsync(request, client, user, session!, cancellationToken);
            }

            mustAuthenticate = true;
        }

        if (request.HasPromptValue(PromptValues.None))
        {
            // OpenID Connect Core §3.1.2.1: prompt=none never shows a page.
            return Forbid(Errors.LoginRequired, "The user is not signed in.");
        }

        var route = await router.RouteAsync(HttpContext, new SignInHints(ReturnUrl(request))
        {
            ConnectionId = connectionHint,
            OrganizationId = organizationHint,
            Email = request.LoginHint,
            ForceLogin = request.HasPromptValue(PromptValues.Login),
        }, cancellationToken);

        return route.Step switch
        {
            SignInStep.Redirect => Redirect(route.Location!),
            SignInStep.ChooseConnection => Redirect($"{Request.PathBase}/signin/choose?organization={Uri.EscapeDataString(route.Organization!.Id)}&returnUrl={Uri.EscapeDataString(ReturnUrl(request))}"),
            SignInStep.AskEmail => Redirect($"{Request.PathBase}/signin?returnUrl={Uri.EscapeDataString(ReturnUrl(request))}"),
            _ => Forbid(route.Error switch
            {
                "upstream_unavailable" => Errors.TemporarilyUnavailable,
                "unknown_connection" or "unknown_organization" => Errors.InvalidRequest,
                _ => Errors.AccessDenied,
            }, route.Description),
        };
    }

    private async Task<IActionResult> IssueAsync(OpenIddictRequest request, Hosting.ClientOptions client, UserRecord user, SessionRecord session, CancellationToken cancellationToken)
    {
        var grants = await directoryGrants.ForAsync(user.Id, user.OrganizationId, SessionGrants.FromJson(session.Grants), cancellationToken);
        var principal = principals.Create(request, client, user, session, grants);
        var application = await applications.FindByClientIdAsync(client.ClientId, cancellationToken)
            ?? throw new InvalidOperationException("The client is configured but not registered.");

        // Every code starts a token family of its own, tied to the session so that ending one ends the other. The family,
        // the tie and the code are stored together as the response leaves (IssueCodeInOneTransaction), or not at all.
        transaction.Collect(db);
        var authorization = await authorizations.CreateAsync(principal, user.Id.ToString(),
            (await applications.GetIdAsync(application, cancellationToken))!, AuthorizationTypes.AdHoc, principal.GetScopes(), cancellationToken);
        var authorizationId = (await authorizations.GetIdAsync(authorization, cancellationToken))!;
        principal.SetAuthorizationId(authorizationId);
        db.SessionAuthorizations.Add(new SessionAuthorizationRecord
        {
            SessionId = session.Id,
            AuthorizationId = authorizationId,
            ClientId = client.ClientId,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        });
        transaction.SaveBeforeCommit();

        audit.Record(new AuditEvent(AuditEvents.AuthorizationGranted, AuditEvent.Success)
        {
            ClientId = client.ClientId,
            UserId = user.Id.ToString(),
            OrganizationId = user.OrganizationId,
            ConnectionId = session.ConnectionId,
            IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Request.Headers.UserAgent.ToString(),
            Detail = new Dictionary<string, string?> { ["sid"] = session.Id, ["scope"] = string.Join(' ', principal.GetScopes()), ["authorization_id"] = authorizationId },
        });
        return SignIn(principal, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>Where to come back after signing in: this request again, without prompt=login (it will have been honoured).</summary>
    private string ReturnUrl(OpenIddictRequest request)
    {
        var query = new QueryBuilder();
        foreach (var (name, value) in request.GetParameters())
        {
            if (name == Parameters.Prompt)
            {
                var remaining = request.GetPromptValues().Where(p => p != PromptValues.Login).ToList();
                if (remaining.Count > 0)
                {
                    query.Add(name, string.Join(' ', remaining));
                }

                continue;
            }

            foreach (var item in (Microsoft.Extensions.Primitives.StringValues)value)
            {
                if (item is not null)
                {
                    query.Add(name, item);
                }
            }
        }

        return $"{Request.PathBase}/authorize{query.ToQueryString()}";
    }

    private IActionResult Forbid(string error, string? description) => Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    private PageResult ShowError(string error, string? description)
    {
        View = new ErrorView("Sign-in request refused", error, description);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private void Audit(string name, string outcome, string? clientId, string reason, bool redirected) =>
        audit.Record(new AuditEvent(name, outcome)
        {
            ClientId = clientId is { Length: > 100 } ? clientId[..100] : clientId,
            IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Request.Headers.UserAgent.ToString(),
            Reason = reason,
            Detail = new Dictionary<string, string?> { ["redirected"] = redirected ? "true" : "false" },
        });
}
