using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Tessera.Federation;

namespace Tessera.Pages;

/// <summary>
/// Where every connection's identity provider sends the browser back, at the route its protocol names
/// (<see cref="IConnectionProtocol.CallbackRoute"/>). The broker has the connector read the answer and completes the
/// sign-in; this page only shows a failure.
/// </summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class UpstreamCallbackModel(UpstreamSignIn upstream) : PageModel
{
    public ErrorView View { get; private set; } = new("Sign-in failed", "invalid_request", null);

    public Task<IActionResult> OnGetAsync(string connectionId, CancellationToken cancellationToken) => AnswerAsync(connectionId, cancellationToken);

    public Task<IActionResult> OnPostAsync(string connectionId, CancellationToken cancellationToken) => AnswerAsync(connectionId, cancellationToken);

    /// <summary>One route per protocol, each marked with the protocol it serves: a connection answers only at its own.</summary>
    public static void MapRoutes(PageConventionCollection conventions) =>
        conventions.AddPageRouteModelConvention("/UpstreamCallback", page =>
        {
            page.Selectors.Clear();
            foreach (var protocol in ConnectionProtocols.All)
            {
                page.Selectors.Add(new SelectorModel
                {
                    AttributeRouteModel = new AttributeRouteModel { Template = protocol.CallbackRoute },
                    EndpointMetadata = { new CallbackProtocol(protocol.Name) },
                });
            }
        });

    private async Task<IActionResult> AnswerAsync(string connectionId, CancellationToken cancellationToken)
    {
        var protocol = HttpContext.GetEndpoint()?.Metadata.GetMetadata<CallbackProtocol>()?.Name;
        var outcome = await upstream.AnswerAsync(HttpContext, protocol, connectionId, cancellationToken);
        if (outcome.Succeeded)
        {
            // An absolute URL is an identity provider's (a challenged sign-in goes back to it) or an unsolicited
            // sign-in's configured landing; anything else is one of this server's paths.
            return outcome.External ? Redirect(outcome.ReturnUrl!) : LocalRedirect(outcome.ReturnUrl!);
        }

        View = new ErrorView("Sign-in failed", outcome.Error!, outcome.Description, outcome.RetryUrl) { Reference = outcome.Reference };
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private sealed record CallbackProtocol(string Name);
}
