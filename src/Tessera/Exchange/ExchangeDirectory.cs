using Tessera.Hosting;

namespace Tessera.Exchange;

/// <summary>The exchange side of the configuration in force: trusted issuers and each client's policies.</summary>
public sealed class ExchangeDirectory(TesseraConfiguration configuration)
{
    public IReadOnlyList<ExchangePolicyOptions> PoliciesOf(string? clientId) =>
        clientId is not null && Current.Policies.TryGetValue(clientId, out var policies) ? policies : [];

    /// <summary>The presentations any policy of the client lets it exchange.</summary>
    public IReadOnlySet<string> PresentationsOf(string? clientId) =>
        PoliciesOf(clientId).SelectMany(p => p.Presentations).ToHashSet(StringComparer.Ordinal);

    public TrustedIssuerOptions? IssuerOptions(string id) => Current.IssuerOptions.GetValueOrDefault(id);

    /// <summary>The trusted issuers among <paramref name="ids"/> (connection ids and <c>tessera</c> are skipped).</summary>
    public IReadOnlyList<TrustedIssuer> Issuers(IEnumerable<string> ids)
    {
        var model = Current;
        return ids.Distinct(StringComparer.Ordinal).Select(id => model.Issuers.GetValueOrDefault(id)).OfType<TrustedIssuer>().ToList();
    }

    public IEnumerable<string> AllIssuerIds => Current.Issuers.Keys;

    /// <summary>Scopes some trusted issuer's rule grants: issued only to subjects a rule granted them to.</summary>
    public IReadOnlySet<string> RuleGrantedScopes() => Current.RuleScopes;

    /// <summary>The trusted issuers any policy of the client accepts subject (or actor) tokens from.</summary>
    public IReadOnlyList<TrustedIssuer> IssuersFor(string clientId, bool actor) =>
        Current.ClientIssuers.GetOrAdd((clientId, actor), key => Issuers(Sources(PoliciesOf(key.ClientId), key.Actor)));

    /// <summary>Every source any policy of the client accepts, for subjects or for actors.</summary>
    public static IReadOnlyCollection<string> Sources(IEnumerable<ExchangePolicyOptions> policies, bool actor) =>
        policies.SelectMany(p => actor ? ActorSources(p) : p.SubjectIssuers).ToHashSet(StringComparer.Ordinal);

    public static IReadOnlyList<string> ActorSources(ExchangePolicyOptions policy) => policy.ActorIssuers.Count > 0 ? policy.ActorIssuers : policy.SubjectIssuers;

    private ExchangeModel Current => configuration.Current.Exchange;
}
