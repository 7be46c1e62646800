using Tessera.Hosting;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// The <c>aud</c> of an access token: the resources the client asked for (RFC 8707), which must be among its
/// registered audiences, or all of its audiences; a client with none gets Tessera itself (its userinfo endpoint).
/// A token that carries a credential scope is also for the credential issuer (OpenID4VCI 1.0 §8.2), which is Tessera
/// under its own identifier; a wallet may name that identifier as its <c>resource</c>.
/// </summary>
public sealed class AudienceSelector(TesseraIssuer issuer, TesseraConfiguration configuration)
{
    public IReadOnlyList<string> Select(ClientOptions client, IReadOnlyCollection<string> requested, IEnumerable<string>? scopes = null)
    {
        if (requested.Count > 0)
        {
            return [.. requested];
        }

        var audiences = client.Audiences.Count > 0 ? client.Audiences : [issuer.Name];
        return scopes is not null && scopes.Any(IsCredentialScope) && !audiences.Contains(issuer.Name, StringComparer.Ordinal)
            ? [.. audiences, issuer.Name]
            : audiences;
    }

    /// <summary>RFC 8707 §2: every requested resource is a registered audience, or the credential issuer for a client with a credential scope.</summary>
    public bool AllAllowed(ClientOptions client, IEnumerable<string> requested) =>
        requested.All(r => client.Audiences.Contains(r, StringComparer.Ordinal) || r == issuer.Name && client.Scopes.Any(IsCredentialScope));

    private bool IsCredentialScope(string scope) => configuration.Current.Declared.Credentials.Any(c => c.EffectiveScope == scope);
}
