using System.Collections.Frozen;
using Tessera.Exchange;
using Tessera.Federation;

namespace Tessera.Hosting;

/// <summary>
/// The configuration in force, compiled (<see cref="ConfigurationCompiler"/>): validated whole, every connection
/// compiled by its connector's protocol, and indexed for the lookups requests make. Immutable: a request reads one
/// snapshot from <see cref="TesseraConfiguration.Current"/> without a lock, and a change replaces it whole.
/// </summary>
public sealed class TesseraModel
{
    private readonly FrozenDictionary<string, ClientOptions> _clients;
    private readonly FrozenDictionary<string, Organization> _organizations;
    private readonly FrozenDictionary<string, Organization> _organizationsByDomain;
    private readonly FrozenDictionary<string, Connection> _connections;
    private readonly FrozenDictionary<string, Connection> _draftConnections;
    private readonly FrozenDictionary<string, string> _scimTokenOrganizations;
    private readonly FrozenDictionary<(string Kind, string Id), ManagedResource> _managed;

    internal TesseraModel(TesseraOptions declared, TesseraOptions file, ManagedConfiguration managed, IEnumerable<ManagedResource> included,
        TesseraIssuer issuer, IReadOnlyList<Organization> organizations)
    {
        Declared = declared;
        File = file;
        Managed = managed;
        _managed = included.ToFrozenDictionary(r => (r.Kind, r.Id));
        Issuer = issuer;
        Clients = declared.Clients;
        _clients = declared.Clients.ToFrozenDictionary(c => c.ClientId, StringComparer.Ordinal);
        Organizations = organizations;
        _organizations = organizations.ToFrozenDictionary(o => o.Id, StringComparer.Ordinal);
        _organizationsByDomain = organizations.SelectMany(o => o.Domains.Select(d => (Domain: d, Organization: o)))
            .ToFrozenDictionary(x => x.Domain, x => x.Organization, StringComparer.OrdinalIgnoreCase);
        _connections = organizations.SelectMany(o => o.Connections).ToFrozenDictionary(c => c.Id, StringComparer.Ordinal);
        _draftConnections = organizations.SelectMany(o => o.DraftConnections).ToFrozenDictionary(c => c.Id, StringComparer.Ordinal);
        _scimTokenOrganizations = organizations.SelectMany(o => o.Scim.Tokens.Select(t => (Hash: Directory.ScimTokens.Hash(t), o.Id)))
            .ToFrozenDictionary(x => x.Hash, x => x.Id, StringComparer.Ordinal);
        RuleGrantedScopes = organizations.SelectMany(o => o.Rules).SelectMany(r => r.Grant.Scopes).ToFrozenSet(StringComparer.Ordinal);
        ClientScopes = declared.Clients.SelectMany(c => c.Scopes).ToFrozenSet(StringComparer.Ordinal);
        Exchange = new ExchangeModel(declared);
        Verifier = new Credentials.VerifierModel(declared, issuer);
    }

    /// <summary>The declared configuration this was compiled from (the file's and the managed resources together); read through the properties below.</summary>
    public TesseraOptions Declared { get; }

    /// <summary>The configuration file's part, as loaded.</summary>
    public TesseraOptions File { get; }

    /// <summary>The managed configuration (database) this was compiled with, and its revision.</summary>
    public ManagedConfiguration Managed { get; internal set; }

    /// <summary>Managed resources left out because they did not compile with the rest, and why.</summary>
    public IReadOnlyList<ManagedProblem> Problems { get; internal set; } = [];

    public TesseraIssuer Issuer { get; }

    public StorageOptions Storage => Declared.Storage;

    public KeyOptions Keys => Declared.Keys;

    public TokenLifetimeOptions Tokens => Declared.Tokens;

    public SessionOptions Sessions => Declared.Sessions;

    public PortalOptions Portal => Declared.Portal;

    public AnomalyOptions Anomaly => Declared.Anomaly;

    public AuditOptions Audit => Declared.Audit;

    public SignalOptions Signals => Declared.Signals;

    public NetworkOptions Network => Declared.Network;

    public TelemetryOptions Telemetry => Declared.Telemetry;

    public RequestLimitOptions RequestLimits => Declared.RequestLimits;

    public DevelopmentOptions Development => Declared.Development;

    public IReadOnlyList<ClientOptions> Clients { get; }

    public IReadOnlyList<Organization> Organizations { get; }

    /// <summary>Every scope some organization's rule grants: such scopes are issued only to users a rule grants them to.</summary>
    public IReadOnlySet<string> RuleGrantedScopes { get; }

    /// <summary>Every scope some client is registered for.</summary>
    public IReadOnlySet<string> ClientScopes { get; }

    /// <summary>Trusted issuers and exchange policies.</summary>
    /// <summary>Presentations and trusted credential issuers, compiled for the OpenID4VP verifier.</summary>
    public Credentials.VerifierModel Verifier { get; }

    public ExchangeModel Exchange { get; }

    public ClientOptions? FindClient(string? clientId) =>
        clientId is not null && _clients.TryGetValue(clientId, out var client) ? client : null;

    public Organization? FindOrganization(string? organizationId) =>
        organizationId is not null && _organizations.TryGetValue(organizationId, out var organization) ? organization : null;

    /// <summary>The organization that signs in with addresses at <paramref name="domain"/> (case-insensitive).</summary>
    public Organization? FindOrganizationByDomain(string domain) => _organizationsByDomain.GetValueOrDefault(domain);

    /// <summary>An active connection: drafts are never used by real sign-ins.</summary>
    public Connection? FindConnection(string? connectionId) =>
        connectionId is not null && _connections.TryGetValue(connectionId, out var connection) ? connection : null;

    /// <summary>A connection whether active or a draft: only a test sign-in, and the SP metadata an admin copies, use a draft.</summary>
    public Connection? FindConnectionOrDraft(string? connectionId) =>
        FindConnection(connectionId) ?? (connectionId is not null && _draftConnections.TryGetValue(connectionId, out var draft) ? draft : null);

    /// <summary>The managed resource in force under this kind and id, or null when it is the file's (or absent).</summary>
    public ManagedResource? FindManaged(string kind, string id) => _managed.GetValueOrDefault((kind, id));

    /// <summary>Hashes of a managed client's secrets that still work, newest first.</summary>
    public IReadOnlyList<ClientSecretHash> ClientSecrets(string clientId) => FindManaged(ManagedKinds.Client, clientId)?.ClientSecrets ?? [];

    /// <summary>The organization a SCIM bearer token declared in configuration opens, by the token's hash.</summary>
    public string? ScimTokenOrganization(string hash) => _scimTokenOrganizations.GetValueOrDefault(hash);
}
