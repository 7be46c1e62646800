using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Federation;

namespace Tessera.Pages;

/// <summary>Home-realm discovery: asks for an email address and continues at that organization's identity provider.</summary>
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class SignInModel(SignInRouter router) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Email { get; set; }

    public string? Message { get; private set; }

    public ErrorView? View { get; private set; }

    public IActionResult OnGet() => ReturnUrls.IsSafe(Request, ReturnUrl) ? Page() : Refuse();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ReturnUrls.IsSafe(Request, ReturnUrl))
        {
            return Refuse();
        }

        var route = await router.RouteAsync(HttpContext, new SignInHints(ReturnUrl!) { Email = Email?.Trim() ?? "" }, cancellationToken);
        switch (route.Step)
        {
            case SignInStep.Redirect:
                return Redirect(route.Location!);
            case SignInStep.ChooseConnection:
                return Redirect($"{Request.PathBase}/signin/choose?organization={Uri.EscapeDataString(route.Organization!.Id)}&returnUrl={Uri.EscapeDataString(ReturnUrl!)}");
            case SignInStep.AskEmail:
                Message = route.Description ?? "Enter your work email address.";
                return Page();
            default:
                View = new ErrorView("Sign-in not possible", route.Error!, route.Description, ReturnUrl);
                Response.StatusCode = StatusCodes.Status400BadRequest;
                return Page();
        }
    }

    private PageResult Refuse()
    {
        View = new ErrorView("Sign-in not possible", "invalid_request", "Sign-in must start from an application. Go back to the application and try again.");
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
