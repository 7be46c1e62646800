using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class DemoIndexModel(TesseraConfiguration configuration) : PageModel
{
    public IActionResult OnGet() => configuration.Current.Development.Demo ? Page() : NotFound();
}
