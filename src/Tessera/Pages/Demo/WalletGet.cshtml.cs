using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

/// <summary>"Get my age credential": the wallet starts the authorization code flow for <c>credential:age</c>.</summary>
public sealed class DemoWalletGetModel(TesseraConfiguration configuration, DemoWallet wallet) : PageModel
{
    public IActionResult OnGet() => configuration.Current.Development.Demo ? Redirect(wallet.Begin(HttpContext)) : NotFound();
}
