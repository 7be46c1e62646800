using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>Organizations and connections of the configuration in force, so a connection added by a reload works at once.</summary>
public sealed class ConnectionDirectory(TesseraConfiguration configuration)
{
    /// <summary>An active connection: what sign-ins, exchanges and everything else use.</summary>
    public Connection? FindConnection(string? connectionId) =>
        string.IsNullOrEmpty(connectionId) ? null : configuration.Current.FindConnection(connectionId);

    /// <summary>A connection that may still be a draft: only for its SP metadata, its callback, and test sign-ins.</summary>
    public Connection? FindConnectionOrDraft(string? connectionId) =>
        string.IsNullOrEmpty(connectionId) ? null : configuration.Current.FindConnectionOrDraft(connectionId);

    public Organization? FindOrganization(string? organizationId) =>
        string.IsNullOrEmpty(organizationId) ? null : configuration.Current.FindOrganization(organizationId);

    /// <summary>Scopes some organization's rule grants. Such scopes are issued only to users a rule grants them to.</summary>
    public IReadOnlySet<string> RuleGrantedScopes() => configuration.Current.RuleGrantedScopes;
}
