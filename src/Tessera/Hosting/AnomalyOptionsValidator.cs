using Tessera.Risk;

namespace Tessera.Hosting;

/// <summary>Checks <c>Anomaly</c>, each organization's <c>Anomaly</c>, and <c>Network.TrustedProxies</c> with its header.</summary>
public static class AnomalyOptionsValidator
{
    private static readonly HashSet<string> Rules = new(StringComparer.Ordinal)
    {
        AnomalyRuleOptions.ImpossibleTravel, AnomalyRuleOptions.TwoCountries, AnomalyRuleOptions.NewCountry, AnomalyRuleOptions.TokenUsedElsewhere,
        AnomalyRuleOptions.FailureBurst,
    };

    public static void Validate(TesseraOptions options, Action<string, string> error)
    {
        const string path = "$.Tessera.Anomaly";
        var anomaly = options.Anomaly;
        var databases = (anomaly.GeoDatabase is null ? [] : new[] { (Path: $"{path}.GeoDatabase", File: anomaly.GeoDatabase) })
            .Concat(anomaly.GeoDatabases.Select((file, i) => (Path: $"{path}.GeoDatabases[{i}]", File: file)));
        foreach (var (at, file) in databases)
        {
            if (string.IsNullOrWhiteSpace(file) || !File.Exists(file))
            {
                error(at, "the GeoIP database file does not exist");
            }
        }

        if (anomaly.History is < 1 or > 100)
        {
            error($"{path}.History", "must be between 1 and 100");
        }

        ValidateRules(anomaly.Rules, $"{path}.Rules", error);
        if (anomaly.Rules.Count(r => r.Rule == AnomalyRuleOptions.FailureBurst) > 1)
        {
            error($"{path}.Rules", "FailureBurst may appear once");
        }

        ValidateNetworks(anomaly.ExemptNetworks, $"{path}.ExemptNetworks", error);
        ValidateNetworks(options.Network.TrustedProxies, "$.Tessera.Network.TrustedProxies", error);
        if (options.Network.ForwardedHeader is not (NetworkOptions.XForwardedFor or NetworkOptions.Forwarded))
        {
            error("$.Tessera.Network.ForwardedHeader", $"must be {NetworkOptions.XForwardedFor} or {NetworkOptions.Forwarded}");
        }

        foreach (var header in new[] { ("Country", anomaly.GeoHeaders.Country), ("Latitude", anomaly.GeoHeaders.Latitude), ("Longitude", anomaly.GeoHeaders.Longitude), ("City", anomaly.GeoHeaders.City) })
        {
            if (header.Item2 is not null && (header.Item2.Length is 0 or > 100 || header.Item2.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-'))))
            {
                error($"{path}.GeoHeaders.{header.Item1}", "must be an HTTP header name");
            }
        }

        if (anomaly.GeoHeaders.Country is not null && options.Network.TrustedProxies.Count == 0)
        {
            error($"{path}.GeoHeaders.Country", "location headers are believed only from trusted proxies: set Network.TrustedProxies");
        }

        for (var o = 0; o < options.Organizations.Count; o++)
        {
            var organization = options.Organizations[o].Anomaly;
            if (organization.Rules is { } rules)
            {
                ValidateRules(rules, $"$.Tessera.Organizations[{o}].Anomaly.Rules", error);
                for (var r = 0; r < rules.Count; r++)
                {
                    if (rules[r].Rule == AnomalyRuleOptions.FailureBurst)
                    {
                        error($"$.Tessera.Organizations[{o}].Anomaly.Rules[{r}].Rule", "FailureBurst is global: failures are counted before anyone knows whose they are (set it in Anomaly.Rules)");
                    }
                }
            }

            ValidateNetworks(organization.ExemptNetworks, $"$.Tessera.Organizations[{o}].Anomaly.ExemptNetworks", error);
        }
    }

    private static void ValidateRules(List<AnomalyRuleOptions> rules, string path, Action<string, string> error)
    {
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            var at = $"{path}[{r}]";
            if (!Rules.Contains(rule.Rule))
            {
                error($"{at}.Rule", $"must be one of {string.Join(", ", Rules.Order(StringComparer.Ordinal))}");
            }

            if (rule.Rule == AnomalyRuleOptions.FailureBurst)
            {
                ValidateFailureBurst(rule, at, error);
                continue;
            }

            if (!AnomalyActions.BySeverity.Contains(rule.Action))
            {
                error($"{at}.Action", $"must be one of {string.Join(", ", AnomalyActions.BySeverity)}");
            }

            if (rule.MaxSpeedKmh is < 100 or > 100_000)
            {
                error($"{at}.MaxSpeedKmh", "must be between 100 and 100000");
            }

            if (rule.MinDistanceKm is < 0 or > 20_000)
            {
                error($"{at}.MinDistanceKm", "must be between 0 and 20000");
            }

            if (rule.Window < TimeSpan.FromSeconds(1) || rule.Window > TimeSpan.FromDays(7))
            {
                error($"{at}.Window", "must be between one second and seven days");
            }
        }
    }

    private static void ValidateFailureBurst(AnomalyRuleOptions rule, string at, Action<string, string> error)
    {
        if (rule.Action is not (AnomalyActions.Log or AnomalyActions.Block))
        {
            error($"{at}.Action", "FailureBurst takes log or block: a burst of failures names no user to notify, challenge, revoke or disable");
        }

        if (rule.MaxFailuresPerAddress is < 0 or > 100_000)
        {
            error($"{at}.MaxFailuresPerAddress", "must be between 0 (not counted) and 100000");
        }

        if (rule.MaxFailuresPerClient is < 0 or > 100_000)
        {
            error($"{at}.MaxFailuresPerClient", "must be between 0 (not counted) and 100000");
        }

        if (rule.Lockout < TimeSpan.FromSeconds(1) || rule.Lockout > TimeSpan.FromDays(1))
        {
            error($"{at}.Lockout", "must be between one second and one day");
        }

        if (rule.MaxLockout < rule.Lockout || rule.MaxLockout > TimeSpan.FromDays(1))
        {
            error($"{at}.MaxLockout", "must be at least Lockout and at most one day");
        }
    }

    private static void ValidateNetworks(List<string> networks, string path, Action<string, string> error)
    {
        for (var n = 0; n < networks.Count; n++)
        {
            if (!NetworkList.TryParseEntry(networks[n]?.Trim() ?? "", out _))
            {
                error($"{path}[{n}]", "must be an IP address or a CIDR range such as 10.0.0.0/8");
            }
        }
    }
}
