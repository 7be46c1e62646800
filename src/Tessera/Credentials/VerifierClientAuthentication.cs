using System.Text;
using OpenIddict.Abstractions;
using Tessera.Hosting;

namespace Tessera.Credentials;

/// <summary>
/// Authenticates the app at the verifier's endpoints as the token endpoint does for a client secret: HTTP Basic
/// (RFC 6749 §2.3.1, each part form-url-encoded) or <c>client_id</c> + <c>client_secret</c> in the form, checked by
/// OpenIddict's application manager. Only a confidential client of the configuration passes.
/// </summary>
public sealed class VerifierClientAuthentication(IOpenIddictApplicationManager applications, TesseraConfiguration configuration)
{
    public async Task<ClientOptions?> AuthenticateAsync(HttpRequest request, IFormCollection form, CancellationToken cancellationToken)
    {
        string? id = null;
        string? secret = null;
        var header = request.Headers.Authorization;
        if (header.Count == 1 && header[0]!.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[0]!["Basic ".Length..].Trim()));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    id = Uri.UnescapeDataString(pair[..colon].Replace('+', ' '));
                    secret = Uri.UnescapeDataString(pair[(colon + 1)..].Replace('+', ' '));
                }
            }
            catch (FormatException)
            {
                return null;
            }

            if (form.ContainsKey("client_secret"))
            {
                return null; // RFC 6749 §2.3: one method per request
            }
        }
        else if (form["client_id"].Count == 1 && form["client_secret"].Count == 1)
        {
            id = form["client_id"].ToString();
            secret = form["client_secret"].ToString();
        }

        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret) || id.Length > 200 || secret.Length > 1000
            || configuration.Current.FindClient(id) is not { Type: "confidential" } client
            || await applications.FindByClientIdAsync(id, cancellationToken) is not { } application)
        {
            return null;
        }

        return await applications.ValidateClientSecretAsync(application, secret, cancellationToken) ? client : null;
    }
}
