using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class DemoAgeCheckModel(TesseraConfiguration configuration, DemoAgeCheck ageCheck) : PageModel
{
    public AgeCheckRequest? Asked { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!configuration.Current.Development.Demo)
        {
            return NotFound();
        }

        (Asked, Error) = await ageCheck.BeginAsync(HttpContext, cancellationToken);
        return Page();
    }
}
