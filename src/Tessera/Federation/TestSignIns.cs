using Microsoft.EntityFrameworkCore;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Federation;

/// <summary>
/// A test sign-in through a connection (active or draft) for the admin setting it up. It goes through the broker like
/// any sign-in; its pending record carries the test's id, so the broker records the connector's verdict
/// (<see cref="ConnectionTestResults"/>) instead of signing anyone in.
/// </summary>
public sealed class TestSignIns(
    UpstreamSignIn upstream,
    IEnumerable<IConnector> connectors,
    ConnectionTestResults results,
    TesseraDbContext db,
    TesseraIssuer issuer)
{
    /// <summary>
    /// Where to send the browser, or, when the connector can already see the IdP will refuse (a redirect URI it does
    /// not know), the test's result page with that verdict recorded.
    /// </summary>
    public async Task<Uri> BeginAsync(HttpContext http, Connection connection, ConnectionTestRecord test, string resultPath, CancellationToken cancellationToken)
    {
        // Where the broker sends the browser back is a path of this server (under the issuer's path, if it has one).
        var redirect = await upstream.BeginAsync(http, connection, http.Request.PathBase + resultPath, null, forceLogin: false, cancellationToken, test.Id);
        var verdict = redirect.Location is null
            ? UpstreamResult.Failure(redirect.Error!, redirect.Description!) with { Diagnosis = redirect.Diagnosis }
            : null;
        if (verdict is null && connectors.FirstOrDefault(c => c.Protocol == connection.Protocol) is IPreflightsTestSignIns preflight)
        {
            var ticket = new UpstreamTicket("", "", "", new Uri(issuer.Url(connection.CallbackPath)));
            if (await preflight.PreflightAsync(connection, redirect.Location!, ticket, cancellationToken) is { } problem)
            {
                verdict = UpstreamResult.Failure(problem.Check, problem.Summary) with { Diagnosis = problem };
                await db.PendingLogins.Where(p => p.ConnectionTestId == test.Id).ExecuteDeleteAsync(cancellationToken);
            }
        }

        if (verdict is null)
        {
            return redirect.Location!;
        }

        await results.CompleteAsync(test.Id, connection, verdict, cancellationToken);
        return new Uri(issuer.Url(resultPath));
    }
}
