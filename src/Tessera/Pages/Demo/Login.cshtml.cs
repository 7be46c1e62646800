using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

public sealed class DemoLoginModel(TesseraConfiguration configuration, DemoClient client) : PageModel
{
    public IActionResult OnGet() => configuration.Current.Development.Demo ? Redirect(client.Begin(HttpContext)) : NotFound();
}
