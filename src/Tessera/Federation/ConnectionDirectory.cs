using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>A connection together with the organization it belongs to.</summary>
public sealed record Connection(OrganizationOptions Organization, ConnectionOptions Options)
{
    public string Id => Options.Id;
    public string DisplayName => Options.DisplayName ?? Organization.DisplayName ?? Options.Id;
}

/// <summary>
/// Organizations and connections as currently configured. Reads the live configuration on every call, so a
/// connection added by a reload works at once.
/// </summary>
public sealed class ConnectionDirectory(TesseraConfiguration configuration)
{
    public Connection? FindConnection(string? connectionId)
    {
        if (string.IsNullOrEmpty(connectionId))
        {
            return null;
        }

        foreach (var organization in configuration.Current.Organizations)
        {
            foreach (var connection in organization.Connections)
            {
                if (string.Equals(connection.Id, connectionId, StringComparison.Ordinal))
                {
                    return new Connection(organization, connection);
                }
            }
        }

        return null;
    }

    public OrganizationOptions? FindOrganization(string? organizationId) =>
        string.IsNullOrEmpty(organizationId) ? null
        : configuration.Current.Organizations.FirstOrDefault(o => string.Equals(o.Id, organizationId, StringComparison.Ordinal));

    public IReadOnlyList<Connection> ConnectionsOf(OrganizationOptions organization) =>
        organization.Connections.Select(c => new Connection(organization, c)).ToList();

    /// <summary>Every scope that some rule grants. Such scopes are issued only to users a rule grants them to.</summary>
    /// <summary>Scopes some organization's rule grants (read once per configuration version).</summary>
    public IReadOnlySet<string> RuleGrantedScopes() => RuleScopes.GetValue(configuration.Current, options =>
        options.Organizations.SelectMany(o => o.Rules).SelectMany(r => r.Grant.Scopes).ToHashSet(StringComparer.Ordinal));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TesseraOptions, IReadOnlySet<string>> RuleScopes = [];
}
