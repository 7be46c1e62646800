using System.Runtime.CompilerServices;
using Tessera.Hosting;

namespace Tessera.Exchange;

/// <summary>The exchange side of the configuration in force: trusted issuers and each client's policies, read once per version.</summary>
public sealed class ExchangeDirectory(TesseraConfiguration configuration)
{
    private static readonly ConditionalWeakTable<TesseraOptions, Snapshot> Snapshots = [];

    public IReadOnlyList<ExchangePolicyOptions> PoliciesOf(string? clientId) =>
        clientId is not null && Current.Policies.TryGetValue(clientId, out var policies) ? policies : [];

    public TrustedIssuerOptions? IssuerOptions(string id) => Current.IssuerOptions.GetValueOrDefault(id);

    /// <summary>The trusted issuers among <paramref name="ids"/> (connection ids and <c>tessera</c> are skipped).</summary>
    public IReadOnlyList<TrustedIssuer> Issuers(IEnumerable<string> ids)
    {
        var snapshot = Current;
        return ids.Distinct(StringComparer.Ordinal).Select(id => snapshot.Issuers.GetValueOrDefault(id)).OfType<TrustedIssuer>().ToList();
    }

    public IEnumerable<string> AllIssuerIds => Current.Issuers.Keys;

    /// <summary>Scopes some trusted issuer's rule grants: issued only to subjects a rule granted them to.</summary>
    public IReadOnlySet<string> RuleGrantedScopes() => Current.RuleScopes;

    /// <summary>The trusted issuers any policy of the client accepts subject (or actor) tokens from.</summary>
    public IReadOnlyList<TrustedIssuer> IssuersFor(string clientId, bool actor)
    {
        var snapshot = Current;
        return snapshot.ClientIssuers.GetOrAdd((clientId, actor), key => Issuers(Sources(PoliciesOf(key.ClientId), key.Actor)));
    }

    /// <summary>Every source any policy of the client accepts, for subjects or for actors.</summary>
    public static IReadOnlyCollection<string> Sources(IEnumerable<ExchangePolicyOptions> policies, bool actor) =>
        policies.SelectMany(p => actor ? ActorSources(p) : p.SubjectIssuers).ToHashSet(StringComparer.Ordinal);

    public static IReadOnlyList<string> ActorSources(ExchangePolicyOptions policy) => policy.ActorIssuers.Count > 0 ? policy.ActorIssuers : policy.SubjectIssuers;

    private Snapshot Current => Snapshots.GetValue(configuration.Current, Build);

    private static Snapshot Build(TesseraOptions options) => new(
        options.TrustedIssuers.ToDictionary(i => i.Id, ToTrustedIssuer, StringComparer.Ordinal),
        options.TrustedIssuers.ToDictionary(i => i.Id, StringComparer.Ordinal),
        options.ExchangePolicies.GroupBy(p => p.ClientId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<ExchangePolicyOptions>)g.ToList(), StringComparer.Ordinal),
        options.TrustedIssuers.SelectMany(i => i.Rules).SelectMany(r => r.Grant.Scopes).ToHashSet(StringComparer.Ordinal));

    private static TrustedIssuer ToTrustedIssuer(TrustedIssuerOptions options) =>
        new(options.Id, options.Issuer, options.JwksUri is null ? null : new Uri(options.JwksUri), options.AllowedAlgorithms, options.Audiences, options.SubjectClaim)
        {
            ClockSkew = options.ClockSkew,
            Keys = options.Keys,
        };

    private sealed record Snapshot(
        IReadOnlyDictionary<string, TrustedIssuer> Issuers,
        IReadOnlyDictionary<string, TrustedIssuerOptions> IssuerOptions,
        IReadOnlyDictionary<string, IReadOnlyList<ExchangePolicyOptions>> Policies,
        IReadOnlySet<string> RuleScopes)
    {
        public System.Collections.Concurrent.ConcurrentDictionary<(string ClientId, bool Actor), IReadOnlyList<TrustedIssuer>> ClientIssuers { get; } = new();
    }
}
