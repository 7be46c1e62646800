namespace Tessera.Hosting;

/// <summary>The kinds of resource the managed configuration holds, by the names the Admin API and the database use.</summary>
public static class ManagedKinds
{
    public const string Organization = "organization";
    public const string Connection = "connection";
    public const string Rule = "rule";
    public const string Client = "client";
    public const string TrustedIssuer = "trusted-issuer";
    public const string ExchangePolicy = "exchange-policy";
    public const string SignalReceiver = "signal-receiver";

    public const string Active = "active";
    public const string Draft = "draft";

    /// <summary>The options type each kind is written in: the same shape as in the file.</summary>
    public static Type OptionsType(string kind) => kind switch
    {
        Organization => typeof(OrganizationOptions),
        Connection => typeof(ConnectionOptions),
        Rule => typeof(RuleOptions),
        Client => typeof(ClientOptions),
        TrustedIssuer => typeof(TrustedIssuerOptions),
        ExchangePolicy => typeof(ExchangePolicyOptions),
        SignalReceiver => typeof(SignalReceiverOptions),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown managed kind."),
    };
}

/// <summary>
/// One resource of the managed configuration as read from the database: its options (secrets decrypted; a client
/// carries only hashes of its secrets), where it belongs, and its version.
/// </summary>
public sealed record ManagedResource(string Kind, string Id, string? OrganizationId, object Options, string Status, long Version)
{
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public string? UpdatedBy { get; init; }

    /// <summary>A client's secrets, newest first: the newest is the one in use, older ones work until they expire (rotation overlap).</summary>
    public IReadOnlyList<ClientSecretHash> ClientSecrets { get; init; } = [];

    public bool IsDraft => Status == ManagedKinds.Draft;

    public T As<T>() where T : class => (T)Options;
}

/// <summary>A hash of a client secret Tessera generated (it is shown once and never stored), and until when it works.</summary>
public sealed record ClientSecretHash(string Id, string Hash, DateTime CreatedAt, DateTime? ExpiresAt);

/// <summary>Everything managed through the Admin API or the portal at one revision of the database.</summary>
public sealed class ManagedConfiguration(long revision, IReadOnlyList<ManagedResource> resources)
{
    public static readonly ManagedConfiguration Empty = new(0, []);

    public long Revision { get; } = revision;

    public IReadOnlyList<ManagedResource> Resources { get; } = resources;

    public IEnumerable<ManagedResource> OfKind(string kind) => Resources.Where(r => r.Kind == kind);

    public ManagedResource? Find(string kind, string id) =>
        Resources.FirstOrDefault(r => r.Kind == kind && string.Equals(r.Id, id, StringComparison.Ordinal));

    /// <summary>This configuration with one resource added, replaced (same kind and id) or, with a null resource, removed.</summary>
    public ManagedConfiguration With(string kind, string id, ManagedResource? resource)
    {
        var list = Resources.Where(r => !(r.Kind == kind && string.Equals(r.Id, id, StringComparison.Ordinal))).ToList();
        if (resource is not null)
        {
            list.Add(resource);
        }

        return new ManagedConfiguration(Revision, list);
    }
}

/// <summary>A managed resource the compiler left out of the model, and why (each error with its path in the resource).</summary>
public sealed record ManagedProblem(string Kind, string Id, IReadOnlyList<ConfigurationError> Errors);
