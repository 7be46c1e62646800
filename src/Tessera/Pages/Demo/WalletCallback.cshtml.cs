using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class DemoWalletCallbackModel(TesseraConfiguration configuration, DemoWallet wallet) : PageModel
{
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!configuration.Current.Development.Demo)
        {
            return NotFound();
        }

        Error = await wallet.CompleteAsync(HttpContext, cancellationToken);
        return Error is null ? Redirect(Url.Content("~" + DemoWallet.BasePath)) : Page();
    }
}
