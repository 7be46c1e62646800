using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Credentials;
using Tessera.Credentials.SdJwt;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

/// <summary>
/// DEVELOPMENT ONLY. The demo wallet: what it holds, what it would show for "over 21", and, when a verifier's
/// OpenID4VP request arrives (<c>?client_id=...&amp;request_uri=...</c>), what that verifier asks for and a button to share it.
/// </summary>
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class DemoWalletModel(TesseraConfiguration configuration, DemoWallet wallet, DemoWalletPresenter presenter) : PageModel
{
    public static readonly ClaimPath Over21 = ClaimPath.Of("age_equal_or_over", "21");

    public HeldCredential? Held { get; private set; }
    public string InTheClear { get; private set; } = "";
    public IReadOnlyList<(string Path, string Value)> Disclosures { get; private set; } = [];
    public IReadOnlyList<(string Path, string Value)> Over21Disclosures { get; private set; } = [];
    public WalletRequest? Asked { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? client_id, string? request_uri, CancellationToken cancellationToken)
    {
        if (!configuration.Current.Development.Demo)
        {
            return NotFound();
        }

        Show();
        if (request_uri is not null)
        {
            (Asked, Error) = await presenter.ReadAsync(client_id, request_uri, Held, cancellationToken);
        }

        return Page();
    }

    /// <summary>The user agreed: present exactly what the request selected and post it to the verifier (OpenID4VP 1.0 §8.2).</summary>
    public async Task<IActionResult> OnPostShareAsync(string? client_id, string? request_uri, CancellationToken cancellationToken)
    {
        if (!configuration.Current.Development.Demo)
        {
            return NotFound();
        }

        Show();
        (Asked, Error) = await presenter.ReadAsync(client_id, request_uri, Held, cancellationToken);
        if (Asked is not null)
        {
            string? redirect;
            (redirect, Error) = await presenter.AnswerAsync(HttpContext, Asked, Held!, cancellationToken);
            if (Error is null)
            {
                return redirect is null ? RedirectToPage() : Redirect(redirect);
            }
        }

        return Page();
    }

    public IActionResult OnPostForget()
    {
        if (!configuration.Current.Development.Demo)
        {
            return NotFound();
        }

        wallet.Forget(HttpContext);
        return RedirectToPage();
    }

    private void Show()
    {
        Held = wallet.Held(HttpContext);
        if (Held is null)
        {
            return;
        }

        var clear = Held.Held.Claims.DeepClone().AsObject();
        foreach (var disclosed in Held.Held.Disclosed.Where(d => d.Path.Segments.Count == 1))
        {
            clear.Remove(disclosed.Disclosure.ClaimName ?? "");
        }

        InTheClear = Pretty(clear);
        Disclosures = Describe(Held.Held.Disclosed);
        var over21 = Held.Held.DisclosuresFor([Over21]);
        Over21Disclosures = over21.Succeeded ? Describe(Held.Held.Disclosed.Where(d => over21.Value!.Contains(d.Disclosure))) : [];
    }

    /// <summary>Each disclosure as the claim path it fills and its value; an object's nested disclosures show as digests only.</summary>
    public static IReadOnlyList<(string Path, string Value)> Describe(IEnumerable<DisclosedClaim> disclosed) =>
        [.. disclosed.Select(d => (string.Join('.', d.Path.Segments.Select(s => s.ClaimName ?? s.ArrayIndex?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "*")), d.Disclosure.Value is JsonObject ? "{ … }" : d.Disclosure.Value?.ToJsonString() ?? "null"))];

    public static string Pretty(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
