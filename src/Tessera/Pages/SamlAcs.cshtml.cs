using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Saml;

namespace Tessera.Pages;

/// <summary>
/// The assertion consumer service of a SAML connection (HTTP-POST binding, SAML Bindings §3.5). A Response whose
/// RelayState belongs to a sign-in started here completes that sign-in; anything else is an IdP-initiated
/// Response, which lands on the connection's configured client or is refused by name.
/// </summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class SamlAcsModel(UpstreamSignIn upstream, SamlConnector connector, ConnectionDirectory directory, TesseraIssuer issuer) : PageModel
{
    public ErrorView View { get; private set; } = new("Sign-in failed", "invalid_request", null);

    public IActionResult OnGet() =>
        Show(SignInOutcome.Failure("invalid_request", "The assertion consumer service accepts SAML Responses by HTTP-POST only.", null));

    public async Task<IActionResult> OnPostAsync(string connectionId, CancellationToken cancellationToken)
    {
        var connection = directory.FindConnection(connectionId);
        if (connection is null || connection.Options.Protocol != SamlConnector.ProtocolName)
        {
            return Show(SignInOutcome.Failure("unknown_connection", "This SAML Response was sent to a connection that does not exist.", null));
        }

        var form = Request.HasFormContentType ? await Request.ReadFormAsync(cancellationToken) : null;
        if (form is null || form["SAMLResponse"].Count != 1 || form["RelayState"].Count > 1 || (form["RelayState"].ToString().Length > 200))
        {
            return Show(SignInOutcome.Failure(SamlRules.Base64, "The answer from the identity provider is malformed.", null));
        }

        var relayState = form["RelayState"].ToString();
        var response = new Dictionary<string, string>(StringComparer.Ordinal) { ["SAMLResponse"] = form["SAMLResponse"].ToString() };
        if (relayState.Length > 0 && await upstream.IsPendingAsync(relayState, cancellationToken))
        {
            response["state"] = relayState;
            var outcome = await upstream.CompleteAsync(HttpContext, connectionId, response, cancellationToken);
            return outcome.Succeeded ? LocalRedirect(outcome.ReturnUrl!) : Show(outcome);
        }

        // No sign-in here waits for this Response. The validator refuses it (unsolicited, or answering a request that
        // is no longer pending) unless the connection accepts IdP-initiated sign-in; RelayState is never a destination.
        var result = await connector.ValidateAsync(connection, response, expectedRequestId: null, cancellationToken);
        var landing = LandingUrl(connection.Options);
        var unsolicited = await upstream.CompleteUnsolicitedAsync(HttpContext, connection, result, landing ?? "/", cancellationToken);
        return unsolicited.Succeeded && landing is not null ? Redirect(landing) : Show(unsolicited);
    }

    /// <summary>OpenID Connect Core §4: the client's login-initiation URL, told which issuer to start a sign-in with.</summary>
    private string? LandingUrl(ConnectionOptions connection)
    {
        if (!connection.AllowIdpInitiated || string.IsNullOrEmpty(connection.IdpInitiatedLoginUri))
        {
            return null;
        }

        var separator = connection.IdpInitiatedLoginUri.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        // The issuer exactly as discovery and tokens spell it.
        return $"{connection.IdpInitiatedLoginUri}{separator}iss={Uri.EscapeDataString(issuer.Name)}";
    }

    private PageResult Show(SignInOutcome outcome)
    {
        View = new ErrorView("Sign-in failed", outcome.Error!, outcome.Description) { Reference = outcome.Reference };
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
