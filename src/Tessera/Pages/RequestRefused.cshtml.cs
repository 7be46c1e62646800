using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Hosting;

namespace Tessera.Pages;

/// <summary>A browser request refused before its endpoint read it (too large, or not a form Tessera accepts); see <see cref="BoundedForms"/>.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class RequestRefusedModel : PageModel
{
    public ErrorView View { get; private set; } = new("Request refused", "invalid_request", null);

    public IActionResult OnGet()
    {
        if (HttpContext.Features.Get<RequestRefusal>() is not { } refusal)
        {
            return NotFound(); // only ever shown in place of a refused request
        }

        View = new ErrorView("Request refused", "invalid_request", refusal.Description);
        Response.StatusCode = refusal.Status;
        return Page();
    }
}
