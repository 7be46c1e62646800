using System.Text.Json;

namespace Tessera.Hosting;

/// <summary>
/// The file's configuration with the managed resources appended after it, in the file's shape, so that one validator
/// checks both and any clash (a domain, an id) is reported at the managed resource, which comes later. Remembers where
/// each managed resource landed, so an error's JSON path can be traced back to the resource that caused it.
/// </summary>
internal sealed class ConfigurationMerge
{
    private static readonly JsonSerializerOptions CloneOptions = new();

    private readonly List<(string Path, ManagedResource Resource)> _owners = [];

    private ConfigurationMerge(TesseraOptions options) => Options = options;

    public TesseraOptions Options { get; }

    /// <summary>Ids of the draft connections in <see cref="Options"/>.</summary>
    public HashSet<string> DraftConnections { get; } = new(StringComparer.Ordinal);

    /// <summary>Managed resources that could not be placed at all (a connection of an organization that does not exist).</summary>
    public List<ManagedProblem> Unplaced { get; } = [];

    public IEnumerable<ManagedResource> Included => _owners.Select(o => o.Resource);

    /// <param name="excluded">Resources left out (by kind and id) because they did not compile.</param>
    public static ConfigurationMerge Create(TesseraOptions file, ManagedConfiguration managed, IReadOnlySet<(string Kind, string Id)> excluded)
    {
        // A deep copy: whatever sections the file has come along, and the file's own objects are never changed.
        var options = Clone(file);
        var merge = new ConfigurationMerge(options);
        var resources = managed.Resources.Where(r => !excluded.Contains((r.Kind, r.Id))).ToList();

        foreach (var resource in resources.Where(r => r.Kind == ManagedKinds.Client))
        {
            var client = Clone(resource.As<ClientOptions>());
            // A managed client's secret is known only by its hash; the hash stands in for it, and is stored as it is.
            client.ClientSecret = resource.ClientSecrets.Count > 0 ? resource.ClientSecrets[0].Hash : null;
            merge.Add($"$.Tessera.Clients[{options.Clients.Count}]", resource);
            options.Clients.Add(client);
        }

        foreach (var resource in resources.Where(r => r.Kind == ManagedKinds.Organization))
        {
            var organization = Clone(resource.As<OrganizationOptions>());
            organization.Connections = [];
            organization.Rules = [];
            merge.Add($"$.Tessera.Organizations[{options.Organizations.Count}]", resource);
            options.Organizations.Add(organization);
        }

        foreach (var resource in resources.Where(r => r.Kind is ManagedKinds.Connection or ManagedKinds.Rule).OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal))
        {
            var index = options.Organizations.FindIndex(o => string.Equals(o.Id, resource.OrganizationId, StringComparison.Ordinal));
            if (index < 0)
            {
                merge.Unplaced.Add(new ManagedProblem(resource.Kind, resource.Id, [new ConfigurationError("$", $"organization '{resource.OrganizationId}' does not exist")]));
                continue;
            }

            var organization = options.Organizations[index];
            if (resource.Kind == ManagedKinds.Connection)
            {
                merge.Add($"$.Tessera.Organizations[{index}].Connections[{organization.Connections.Count}]", resource);
                organization.Connections.Add(Clone(resource.As<ConnectionOptions>()));
                if (resource.IsDraft)
                {
                    merge.DraftConnections.Add(resource.Id);
                }
            }
            else
            {
                merge.Add($"$.Tessera.Organizations[{index}].Rules[{organization.Rules.Count}]", resource);
                organization.Rules.Add(Clone(resource.As<RuleOptions>()));
            }
        }

        foreach (var resource in resources.Where(r => r.Kind == ManagedKinds.TrustedIssuer))
        {
            merge.Add($"$.Tessera.TrustedIssuers[{options.TrustedIssuers.Count}]", resource);
            options.TrustedIssuers.Add(Clone(resource.As<TrustedIssuerOptions>()));
        }

        foreach (var resource in resources.Where(r => r.Kind == ManagedKinds.ExchangePolicy))
        {
            merge.Add($"$.Tessera.ExchangePolicies[{options.ExchangePolicies.Count}]", resource);
            options.ExchangePolicies.Add(Clone(resource.As<ExchangePolicyOptions>()));
        }

        foreach (var resource in resources.Where(r => r.Kind == ManagedKinds.SignalReceiver))
        {
            merge.Add($"$.Tessera.Signals.Receivers[{options.Signals.Receivers.Count}]", resource);
            options.Signals.Receivers.Add(Clone(resource.As<SignalReceiverOptions>()));
        }

        return merge;
    }

    /// <summary>The managed resource an error's path lies in (the most specific one), or null when it lies in the file's part.</summary>
    public (ManagedResource Resource, string RelativePath)? Owner(string path)
    {
        (ManagedResource Resource, string RelativePath)? best = null;
        var bestLength = -1;
        foreach (var (prefix, resource) in _owners)
        {
            if (prefix.Length > bestLength && path.StartsWith(prefix, StringComparison.Ordinal)
                && (path.Length == prefix.Length || path[prefix.Length] is '.' or '['))
            {
                best = (resource, "$" + path[prefix.Length..]);
                bestLength = prefix.Length;
            }
        }

        return best;
    }

    private void Add(string path, ManagedResource resource) => _owners.Add((path, resource));

    internal static T Clone<T>(T value) => JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(value, CloneOptions), CloneOptions)!;
}
