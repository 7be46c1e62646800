using Tessera.Hosting;
using Tessera.Sessions;

namespace Tessera.Federation;

/// <summary>
/// Turns upstream claims into Tessera grants. A rule applies when every condition holds; a condition on a
/// multi-valued claim (such as <c>groups</c>) holds when any value matches. Values compare exactly.
/// </summary>
public static class MappingRules
{
    /// <param name="mapped">Claims the connection copies from upstream; a rule granting the same claim wins.</param>
    public static SessionGrants Evaluate(IEnumerable<RuleOptions> rules, IReadOnlyDictionary<string, IReadOnlyList<string>> claims, IReadOnlyDictionary<string, string>? mapped = null)
    {
        var scopes = new SortedSet<string>(StringComparer.Ordinal);
        var granted = new SortedDictionary<string, string>(mapped?.ToDictionary() ?? [], StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            if (!Matches(rule, claims))
            {
                continue;
            }

            scopes.UnionWith(rule.Grant.Scopes);
            foreach (var (name, value) in rule.Grant.Claims)
            {
                granted[name] = value;
            }
        }

        return new SessionGrants([.. scopes], granted);
    }

    public static bool Matches(RuleOptions rule, IReadOnlyDictionary<string, IReadOnlyList<string>> claims) =>
        rule.When.Count > 0 && rule.When.All(condition =>
            claims.TryGetValue(condition.Key, out var values) && values.Contains(condition.Value, StringComparer.Ordinal));
}
