using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>Organizations and connections of the configuration in force, so a connection added by a reload works at once.</summary>
public sealed class ConnectionDirectory(TesseraConfiguration configuration)
{
    public Connection? FindConnection(string? connectionId) =>
        string.IsNullOrEmpty(connectionId) ? null : configuration.Current.FindConnection(connectionId);

    public Organization? FindOrganization(string? organizationId) =>
        string.IsNullOrEmpty(organizationId) ? null : configuration.Current.FindOrganization(organizationId);

    /// <summary>Scopes some organization's rule grants. Such scopes are issued only to users a rule grants them to.</summary>
    public IReadOnlySet<string> RuleGrantedScopes() => configuration.Current.RuleGrantedScopes;
}
