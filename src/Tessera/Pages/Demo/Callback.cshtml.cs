using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class DemoCallbackModel(TesseraConfiguration configuration, TesseraIssuer issuer, DemoClient client) : PageModel
{
    public string? Error { get; private set; }
    public (string Header, string Payload) IdToken { get; private set; }
    public (string Header, string Payload) AccessToken { get; private set; }
    public bool HasRefreshToken { get; private set; }
    public string LogoutUrl { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!configuration.Current.Development.Demo)
        {
            return NotFound();
        }

        var (tokens, error) = await client.CompleteAsync(HttpContext, cancellationToken);
        if (tokens is null)
        {
            Error = error;
            return Page();
        }

        var root = tokens.RootElement;
        var idToken = root.GetProperty("id_token").GetString()!;
        IdToken = DemoClient.Decode(idToken);
        AccessToken = DemoClient.Decode(root.GetProperty("access_token").GetString()!);
        HasRefreshToken = root.TryGetProperty("refresh_token", out _);
        LogoutUrl = QueryHelpers.AddQueryString(issuer.Url("/logout"), new Dictionary<string, string?>
        {
            ["id_token_hint"] = idToken,
            ["post_logout_redirect_uri"] = issuer.Url("/demo"),
        });
        return Page();
    }
}
