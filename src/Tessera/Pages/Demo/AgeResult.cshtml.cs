using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class DemoAgeResultModel(TesseraConfiguration configuration, DemoAgeCheck ageCheck) : PageModel
{
    public string? Error { get; private set; }
    public (string Header, string Payload) Token { get; private set; }
    public IReadOnlyList<(string Name, string Value)> Learned { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!configuration.Current.Development.Demo)
        {
            return NotFound();
        }

        var (result, error) = await ageCheck.CompleteAsync(HttpContext, cancellationToken);
        if (result is null)
        {
            Error = error;
            return Page();
        }

        Token = DemoClient.Decode(result["token"]!.GetValue<string>());
        Learned = result["claims"] is System.Text.Json.Nodes.JsonObject claims ? [.. claims.Select(c => (c.Key, c.Value?.ToJsonString() ?? "null"))] : [];
        return Page();
    }
}
