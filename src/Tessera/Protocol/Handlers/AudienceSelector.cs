using Tessera.Hosting;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// The <c>aud</c> of an access token: the resources the client asked for (RFC 8707), which must be among its
/// registered audiences, or all of its audiences; a client with none gets Tessera itself (its userinfo endpoint).
/// </summary>
public sealed class AudienceSelector(TesseraIssuer issuer)
{
    public IReadOnlyList<string> Select(ClientOptions client, IReadOnlyCollection<string> requested) =>
        requested.Count > 0 ? [.. requested]
        : client.Audiences.Count > 0 ? client.Audiences
        : [issuer.Name];

    public static bool AllAllowed(ClientOptions client, IEnumerable<string> requested) =>
        requested.All(r => client.Audiences.Contains(r, StringComparer.Ordinal));
}
