using Microsoft.AspNetCore.Mvc;
using Tessera.Federation;
using Tessera.Storage;

namespace Tessera.Pages.Portal;

/// <summary>
/// A test sign-in's verdict: passed, or each failed check with what Tessera expected, what the IdP sent and how to fix
/// it; and what came back and what the organization's rules make of it. Only the portal session that ran it reads it.
/// </summary>
public sealed class TestModel(ConnectionTestResults tests) : PortalPageModel
{
    public ConnectionTestRecord Test { get; private set; } = null!;

    public ConnectionTestReport? Report { get; private set; }

    public string ConnectionName { get; private set; } = "";

    /// <summary>For an OpenID Connect test still waiting: the redirect URI the IdP must know.</summary>
    public string? RedirectUri { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        var test = await tests.FindAsync(id, cancellationToken);
        if (test is null || test.OrganizationId != OrganizationId || test.PortalSessionId != PortalSession.Id)
        {
            return NotFoundPage();
        }

        Test = test;
        Report = ConnectionTestResults.Report(test);
        var connection = OwnConnection(test.ConnectionId);
        ConnectionName = connection?.Options.DisplayName ?? test.ConnectionId;
        if (connection is { Protocol: OidcConnectionProtocol.ProtocolName })
        {
            RedirectUri = HttpContext.RequestServices.GetRequiredService<Hosting.TesseraIssuer>().Url(connection.CallbackPath);
        }

        return Page();
    }
}
