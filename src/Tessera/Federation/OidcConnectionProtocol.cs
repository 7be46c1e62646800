using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>OpenID Connect connections: an upstream issuer, the client Tessera is registered as there, the scopes and algorithms it accepts.</summary>
public sealed class OidcConnectionProtocol : IConnectionProtocol
{
    public const string ProtocolName = "oidc";

    public string Name => ProtocolName;

    public string CallbackRoute => "oidc/{connectionId}/callback";

    public string CallbackPath(ConnectionOptions connection) => $"oidc/{Uri.EscapeDataString(connection.Id)}/callback";

    public object? Compile(ConnectionCompilation compilation)
    {
        var (connection, path, error) = (compilation.Connection, compilation.Path, compilation.Error);
        var failed = false;
        void Error(string at, string reason)
        {
            failed = true;
            error(at, reason);
        }

        Uri? authority = null;
        if (string.IsNullOrWhiteSpace(connection.Authority) || !Uri.TryCreate(connection.Authority, UriKind.Absolute, out authority)
            || (authority.Scheme != Uri.UriSchemeHttps && authority.Scheme != Uri.UriSchemeHttp))
        {
            Error($"{path}.Authority", "an absolute http(s) URL of the upstream issuer is required");
        }
        else if (authority.Scheme == Uri.UriSchemeHttp && !authority.IsLoopback)
        {
            Error($"{path}.Authority", "must use https unless the host is a loopback address");
        }
        else if (!compilation.Configuration.Network.AllowPrivateUpstreams && UpstreamAddressPolicy.NamesNonPublicHost(authority))
        {
            Error($"{path}.Authority", UpstreamAddressPolicy.ConfigurationRefusal);
        }

        if (string.IsNullOrWhiteSpace(connection.ClientId))
        {
            Error($"{path}.ClientId", "the client id registered at the upstream IdP is required");
        }

        if (connection.ClientAuthentication is not ("client_secret_basic" or "client_secret_post"))
        {
            Error($"{path}.ClientAuthentication", "must be client_secret_basic or client_secret_post");
        }

        if (string.IsNullOrEmpty(connection.ClientSecret))
        {
            Error($"{path}.ClientSecret", "the client secret registered at the upstream IdP is required");
        }

        if (!connection.Scopes.Contains("openid"))
        {
            Error($"{path}.Scopes", "must include 'openid'");
        }

        for (var a = 0; a < connection.AllowedAlgorithms.Count; a++)
        {
            if (!TesseraOptionsValidator.AsymmetricAlgorithms.Contains(connection.AllowedAlgorithms[a]))
            {
                Error($"{path}.AllowedAlgorithms[{a}]", $"'{connection.AllowedAlgorithms[a]}' is not allowed (asymmetric algorithms only: {string.Join(", ", TesseraOptionsValidator.AsymmetricAlgorithms)})");
            }
        }

        return failed ? null : new OidcConnectionSettings(authority!);
    }
}

/// <summary>What an OpenID Connect connection's sign-ins start from: the upstream issuer, whose discovery document names the rest.</summary>
public sealed record OidcConnectionSettings(Uri Authority);
