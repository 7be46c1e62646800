using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Admin;
using Tessera.Audit;
using Tessera.Hosting;

namespace Tessera.Pages.Portal;

/// <summary>
/// Where a setup link lands: a page that says what the link opens (a mail scanner fetching it uses nothing), and a
/// button that uses the link once and opens the portal session. A used, expired or revoked link gets a page that says so.
/// </summary>
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class SetupModel(SetupLinks links, PortalSessions sessions, TesseraConfiguration configuration, AuditLog audit) : PageModel
{
    public SetupLinkState State { get; private set; }

    public string OrganizationName { get; private set; } = "";

    public int IdleMinutes => (int)configuration.Current.Portal.IdleTimeout.TotalMinutes;

    public string Heading => State switch
    {
        SetupLinkState.Used => "This setup link has already been used",
        SetupLinkState.Expired => "This setup link has expired",
        SetupLinkState.Revoked => "This setup link has been withdrawn",
        _ => "This setup link is not valid",
    };

    public string Explanation => State switch
    {
        SetupLinkState.Used => "Each setup link opens one setup session, once. If that was you, your session may have ended; if it was not, tell whoever sent the link.",
        SetupLinkState.Expired => "Setup links work for a limited time.",
        SetupLinkState.Revoked => "The link was withdrawn by whoever made it.",
        _ => "Check that the whole link was copied.",
    };

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken cancellationToken)
    {
        var (state, link) = await links.InspectAsync(token, cancellationToken);
        return Show(state, link?.OrganizationId);
    }

    public async Task<IActionResult> OnPostAsync(string token, CancellationToken cancellationToken)
    {
        var (state, session, secret) = await links.RedeemAsync(token, cancellationToken);
        if (state != SetupLinkState.Valid)
        {
            audit.Record(new AuditEvent(AuditEvents.PortalRefused, AuditEvent.Failure)
            {
                IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
                Reason = $"setup link {state.ToString().ToLowerInvariant()}",
            });
            return Show(state, null);
        }

        sessions.WriteCookie(HttpContext, secret!, session!.ExpiresAt);
        audit.Record(new AuditEvent(AuditEvents.PortalOpened, AuditEvent.Success)
        {
            OrganizationId = session.OrganizationId,
            IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Request.Headers.UserAgent.ToString() is { Length: > 200 } agent ? agent[..200] : Request.Headers.UserAgent.ToString(),
            Detail = new Dictionary<string, string?> { ["setup_link"] = session.SetupLinkId, ["portal_session"] = session.Id },
        });
        return Redirect($"{Request.PathBase}/portal");
    }

    private PageResult Show(SetupLinkState state, string? organizationId)
    {
        State = state;
        var model = configuration.Current;
        OrganizationName = organizationId is null ? ""
            : model.FindOrganization(organizationId)?.Name ?? model.Managed.Find(ManagedKinds.Organization, organizationId)?.As<OrganizationOptions>().DisplayName ?? organizationId;
        Response.StatusCode = state == SetupLinkState.Valid ? StatusCodes.Status200OK : state == SetupLinkState.Unknown ? StatusCodes.Status404NotFound : StatusCodes.Status410Gone;
        return Page();
    }
}
