using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Federation;
using Tessera.Saml;

namespace Tessera.Pages;

/// <summary>
/// The assertion consumer service of a SAML connection (HTTP-POST binding, SAML Bindings §3.5). The broker completes
/// the sign-in whose state the RelayState carries; a Response that answers none is an IdP-initiated one, which lands on
/// the connection's configured client or is refused by name.
/// </summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class SamlAcsModel(UpstreamSignIn upstream, ConnectionDirectory directory) : PageModel
{
    public ErrorView View { get; private set; } = new("Sign-in failed", "invalid_request", null);

    public IActionResult OnGet() =>
        Show(SignInOutcome.Failure("invalid_request", "The assertion consumer service accepts SAML Responses by HTTP-POST only.", null));

    public async Task<IActionResult> OnPostAsync(string connectionId, CancellationToken cancellationToken)
    {
        var connection = directory.FindConnectionOrDraft(connectionId);
        if (connection is null || connection.Protocol != SamlConnectionProtocol.ProtocolName)
        {
            return Show(SignInOutcome.Failure("unknown_connection", "This SAML Response was sent to a connection that does not exist.", null));
        }

        var form = Request.HasFormContentType ? await Request.ReadFormAsync(cancellationToken) : null;
        if (form is null || form["SAMLResponse"].Count != 1 || form["RelayState"].Count > 1 || (form["RelayState"].ToString().Length > 200))
        {
            return Show(SignInOutcome.Failure(SamlRules.Base64, "The answer from the identity provider is malformed.", null));
        }

        var response = new Dictionary<string, string>(StringComparer.Ordinal) { ["SAMLResponse"] = form["SAMLResponse"].ToString() };
        if (form["RelayState"].ToString() is { Length: > 0 } relayState)
        {
            response["state"] = relayState;
        }

        var outcome = await upstream.AnswerAsync(HttpContext, connectionId, response, cancellationToken);
        return !outcome.Succeeded ? Show(outcome)
            : outcome.External ? Redirect(outcome.ReturnUrl!)
            : LocalRedirect(outcome.ReturnUrl!);
    }

    private PageResult Show(SignInOutcome outcome)
    {
        View = new ErrorView("Sign-in failed", outcome.Error!, outcome.Description) { Reference = outcome.Reference };
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
