using System.Collections.Concurrent;
using System.Collections.Frozen;
using Tessera.Hosting;

namespace Tessera.Exchange;

/// <summary>The exchange side of a compiled configuration: trusted issuers ready for verification, and each client's policies.</summary>
public sealed class ExchangeModel
{
    public ExchangeModel(TesseraOptions options)
    {
        Issuers = options.TrustedIssuers.ToFrozenDictionary(i => i.Id, ToTrustedIssuer, StringComparer.Ordinal);
        IssuerOptions = options.TrustedIssuers.ToFrozenDictionary(i => i.Id, StringComparer.Ordinal);
        Policies = options.ExchangePolicies.GroupBy(p => p.ClientId, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => (IReadOnlyList<ExchangePolicyOptions>)g.ToList(), StringComparer.Ordinal);
        RuleScopes = options.TrustedIssuers.SelectMany(i => i.Rules).SelectMany(r => r.Grant.Scopes).ToFrozenSet(StringComparer.Ordinal);
    }

    public FrozenDictionary<string, TrustedIssuer> Issuers { get; }

    public FrozenDictionary<string, TrustedIssuerOptions> IssuerOptions { get; }

    public FrozenDictionary<string, IReadOnlyList<ExchangePolicyOptions>> Policies { get; }

    /// <summary>Scopes some trusted issuer's rule grants.</summary>
    public FrozenSet<string> RuleScopes { get; }

    /// <summary>Per client and role, the trusted issuers its policies accept: worked out on first use, kept with this configuration.</summary>
    internal ConcurrentDictionary<(string ClientId, bool Actor), IReadOnlyList<TrustedIssuer>> ClientIssuers { get; } = new();

    private static TrustedIssuer ToTrustedIssuer(TrustedIssuerOptions options) =>
        new(options.Id, options.Issuer, options.JwksUri is null ? null : new Uri(options.JwksUri), options.AllowedAlgorithms, options.Audiences, options.SubjectClaim)
        {
            ClockSkew = options.ClockSkew,
            Keys = options.Keys,
        };
}
