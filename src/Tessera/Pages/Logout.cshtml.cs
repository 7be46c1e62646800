using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Tessera.Audit;
using Tessera.Protocol;
using Tessera.Sessions;
using Tessera.Signals;

namespace Tessera.Pages;

/// <summary>
/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). Ends the SSO session of this browser, or the
/// one named by a valid <c>id_token_hint</c>, with every token issued under it, then returns to the client's
/// registered post-logout URI or shows that the person is signed out.
/// </summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class LogoutModel(SessionStore sessions, BrowserCookies cookies, RevocationService revocation) : PageModel
{
    public ErrorView View { get; private set; } = new("Sign-out refused", "invalid_request", null);

    public Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) => HandleAsync(cancellationToken);

    public Task<IActionResult> OnPostAsync(CancellationToken cancellationToken) => HandleAsync(cancellationToken);

    private async Task<IActionResult> HandleAsync(CancellationToken cancellationToken)
    {
        var refused = HttpContext.GetOpenIddictServerResponse();
        if (refused?.Error is not null)
        {
            View = new ErrorView("Sign-out refused", refused.Error, refused.ErrorDescription);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var session = await sessions.FindByCookieAsync(cookies.ReadSession(HttpContext), cancellationToken);
        var sessionId = session?.Id;
        if (sessionId is null)
        {
            var hinted = await HttpContext.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            sessionId = hinted.Principal?.GetClaim(TesseraClaims.SessionId);
        }

        if (sessionId is not null)
        {
            await revocation.EndSessionAsync(sessionId, "signed out", InitiatingEntities.User, new AuditEvent(AuditEvents.SessionEnded, AuditEvent.Success)
            {
                ClientId = HttpContext.GetOpenIddictServerRequest()?.ClientId,
                IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
                UserAgent = Request.Headers.UserAgent.ToString(),
            }, cancellationToken);
        }

        cookies.DeleteSession(HttpContext);
        return SignOut(new AuthenticationProperties { RedirectUri = $"{Request.PathBase}/signed-out" }, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }
}
