using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>
/// A connector that may take an answer no sign-in here asked for (SAML IdP-initiated SSO, where the connection
/// allows it). Such an answer has no pending sign-in and no browser binding, so it lands only where the connection's
/// configuration says, never where the answer itself points.
/// </summary>
public interface IAcceptsUnsolicitedResponses
{
    /// <summary>Verifies an answer that names no pending sign-in; refused unless the connection accepts unsolicited answers.</summary>
    Task<UpstreamResult> CompleteUnsolicitedAsync(Connection connection, IReadOnlyDictionary<string, string> response, CancellationToken cancellationToken);

    /// <summary>Where the browser goes after an unsolicited sign-in (an absolute URL of a configured client), or null.</summary>
    string? LandingUrl(Connection connection, TesseraIssuer issuer);
}
