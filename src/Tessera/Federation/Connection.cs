using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>
/// A connection of an organization, compiled by its connector's protocol when the configuration was: the settings
/// that protocol reads at sign-in (for SAML the service provider, the validation policy), and where the upstream answers.
/// </summary>
public sealed class Connection
{
    private readonly object _settings;

    internal Connection(Organization organization, ConnectionOptions options, string callbackPath, object settings)
    {
        Organization = organization;
        Options = options;
        CallbackPath = callbackPath;
        _settings = settings;
    }

    public Organization Organization { get; }

    public ConnectionOptions Options { get; }

    public string Id => Options.Id;

    public string Protocol => Options.Protocol;

    /// <summary>Set up through the portal or the Admin API and not yet activated: unused by real sign-ins.</summary>
    public bool IsDraft { get; init; }

    public string DisplayName => Options.DisplayName ?? Organization.DisplayName ?? Options.Id;

    /// <summary>Where the upstream answers, relative to the issuer (for OpenID Connect <c>oidc/{id}/callback</c>).</summary>
    public string CallbackPath { get; }

    /// <summary>The settings its protocol compiled (<see cref="IConnectionProtocol.Compile"/>).</summary>
    public T Settings<T>() where T : class => (T)_settings;
}
