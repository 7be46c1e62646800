using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Admin;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Pages.Portal;

/// <summary>
/// A page of the setup portal: it runs only inside a live portal session, and only for that session's organization.
/// Every id in a URL is checked against it, so one organization's session never reads or changes another's.
/// </summary>
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public abstract class PortalPageModel : PageModel
{
    public PortalSessionRecord PortalSession { get; private set; } = null!;

    public TesseraModel Current { get; protected set; } = null!;

    public string OrganizationId => PortalSession.OrganizationId;

    public string OrganizationName =>
        Current.FindOrganization(OrganizationId)?.Name
        ?? Current.Managed.Find(ManagedKinds.Organization, OrganizationId)?.As<OrganizationOptions>().DisplayName
        ?? OrganizationId;

    /// <summary>How the portal's changes are attributed in the audit log.</summary>
    protected string Actor => $"portal:{OrganizationId}";

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var session = await HttpContext.RequestServices.GetRequiredService<PortalSessions>().FindAsync(HttpContext, HttpContext.RequestAborted);
        if (session is null)
        {
            context.Result = Redirect($"{Request.PathBase}/portal/ended");
            return;
        }

        PortalSession = session;
        Current = HttpContext.RequestServices.GetRequiredService<TesseraConfiguration>().Current;
        await next();
    }

    /// <summary>A connection of this organization (active or draft), or null: another organization's is as good as absent.</summary>
    protected Connection? OwnConnection(string? id) =>
        Current.FindConnectionOrDraft(id) is { } connection && connection.Organization.Id == OrganizationId ? connection : null;

    protected IActionResult NotFoundPage()
    {
        Response.StatusCode = StatusCodes.Status404NotFound;
        return new ViewResult { ViewName = "/Pages/Portal/_NotFound.cshtml" };
    }
}

/// <summary>The portal's one script: copy buttons, for browsers that run it (without it, the values are selectable text).</summary>
public static class PortalScript
{
    public const string Copy =
        "document.querySelectorAll('button[data-copy]').forEach(function(b){b.hidden=false;b.addEventListener('click',function(){"
        + "var f=document.getElementById(b.getAttribute('data-copy'));navigator.clipboard.writeText(f.value).then(function(){b.textContent='Copied';});});});";
}
