using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Federation;

namespace Tessera.Pages;

/// <summary>Where an upstream OpenID Connect provider sends the browser back (query or form_post response mode).</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class OidcCallbackModel(UpstreamSignIn upstream) : PageModel
{
    public ErrorView View { get; private set; } = new("Sign-in failed", "invalid_request", null);

    public Task<IActionResult> OnGetAsync(string connectionId, CancellationToken cancellationToken) =>
        CompleteAsync(connectionId, Request.Query.Select(p => (p.Key, p.Value)), cancellationToken);

    /// <summary>OAuth 2.0 Form Post Response Mode: the parameters arrive as a form; any other body is malformed.</summary>
    public Task<IActionResult> OnPostAsync(string connectionId, CancellationToken cancellationToken) =>
        Request.HasFormContentType
            ? CompleteAsync(connectionId, Request.Form.Select(p => (p.Key, p.Value)), cancellationToken)
            : Task.FromResult<IActionResult>(Show(new SignInOutcome(null, "invalid_request", "The answer from the identity provider is malformed.", null)));

    private async Task<IActionResult> CompleteAsync(string connectionId, IEnumerable<(string Key, Microsoft.Extensions.Primitives.StringValues Value)> parameters, CancellationToken cancellationToken)
    {
        var response = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            // RFC 6749 §3.1: parameters must not be repeated.
            if (value.Count != 1 || key.Length > 100 || (value[0]?.Length ?? 0) > 16 * 1024)
            {
                return Show(new SignInOutcome(null, "invalid_request", "The answer from the identity provider is malformed.", null));
            }

            response[key] = value[0] ?? "";
        }

        var outcome = await upstream.CompleteAsync(HttpContext, connectionId, response, cancellationToken);
        return !outcome.Succeeded ? Show(outcome)
            : outcome.External ? Redirect(outcome.ReturnUrl!) // back to the identity provider, when a sign-in is challenged
            : LocalRedirect(outcome.ReturnUrl!);
    }

    private PageResult Show(SignInOutcome outcome)
    {
        View = new ErrorView("Sign-in failed", outcome.Error!, outcome.Description, outcome.RetryUrl) { Reference = outcome.Reference };
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
