using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Federation;

namespace Tessera.Pages;

/// <summary>For an organization with several connections: the person picks one.</summary>
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ChooseConnectionModel(ConnectionDirectory directory, SignInRouter router) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Organization { get; set; }

    [BindProperty]
    public string? Connection { get; set; }

    public string OrganizationName { get; private set; } = "";

    public IReadOnlyList<Connection> Connections { get; private set; } = [];

    public ErrorView? View { get; private set; }

    public IActionResult OnGet()
    {
        var organization = directory.FindOrganization(Organization);
        if (!ReturnUrls.IsSafe(Request, ReturnUrl) || organization is null)
        {
            return Refuse("This sign-in link is not valid. Go back to the application and try again.");
        }

        OrganizationName = organization.Name;
        Connections = organization.Connections;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ReturnUrls.IsSafe(Request, ReturnUrl) || directory.FindOrganization(Organization) is null)
        {
            return Refuse("This sign-in link is not valid. Go back to the application and try again.");
        }

        var route = await router.RouteAsync(HttpContext, new SignInHints(ReturnUrl!) { OrganizationId = Organization, ConnectionId = Connection }, cancellationToken);
        return route.Step == SignInStep.Redirect ? Redirect(route.Location!) : Refuse(route.Description ?? "This connection cannot be used.");
    }

    private PageResult Refuse(string description)
    {
        View = new ErrorView("Sign-in not possible", "invalid_request", description);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
