using System.Globalization;
using Tessera.Hosting;

namespace Tessera.Risk;

/// <summary>A sign-in as the rules see it: when, from which address, and where that is.</summary>
public sealed record Observation(DateTimeOffset At, string? Address, GeoLocation? Location);

/// <summary>A rule that fired, the action it asks for, and its evidence (for the audit row).</summary>
public sealed record AnomalyDetection(string Rule, string Action, IReadOnlyDictionary<string, string?> Evidence);

/// <summary>What the rules may ask for, from the mildest.</summary>
public static class AnomalyActions
{
    public const string Log = "log";
    public const string Notify = "notify";
    public const string Challenge = "challenge";
    public const string Block = "block";
    public const string Revoke = "revoke";
    public const string Disable = "disable";

    public static readonly IReadOnlyList<string> BySeverity = [Log, Notify, Challenge, Block, Revoke, Disable];

    public static int Severity(string action) => BySeverity.ToList().IndexOf(action);
}

/// <summary>
/// The anomaly rules, pure: a new sign-in against the user's earlier ones (newest first). Impossible travel: the
/// great-circle distance from the last located sign-in over the time since is faster than a plane, and far enough
/// that city-level geolocation is not the explanation. Two countries: another country within the window. A new
/// country: none of the earlier sign-ins was from it. A token used elsewhere: a refresh or an exchange from another
/// country than the sign-in its session began with.
/// </summary>
public static class AnomalyRules
{
    /// <summary>The mean Earth radius (IUGG), for the haversine distance.</summary>
    private const double EarthRadiusKm = 6371.0088;

    /// <param name="issuedTo">For a refresh or an exchange: the sign-in the token's session began with (where its tokens went).</param>
    public static IReadOnlyList<AnomalyDetection> Evaluate(Observation current, IReadOnlyList<Observation> history, IEnumerable<AnomalyRuleOptions> rules, Observation? issuedTo = null)
    {
        var detections = new List<AnomalyDetection>();
        foreach (var rule in rules)
        {
            var evidence = rule.Rule switch
            {
                AnomalyRuleOptions.ImpossibleTravel => ImpossibleTravel(current, history, rule),
                AnomalyRuleOptions.TwoCountries => TwoCountries(current, history, rule),
                AnomalyRuleOptions.NewCountry => NewCountry(current, history),
                AnomalyRuleOptions.TokenUsedElsewhere => TokenUsedElsewhere(current, issuedTo),
                _ => null,
            };
            if (evidence is not null)
            {
                detections.Add(new AnomalyDetection(rule.Rule, rule.Action, evidence));
            }
        }

        return detections;
    }

    private static Dictionary<string, string?>? ImpossibleTravel(Observation current, IReadOnlyList<Observation> history, AnomalyRuleOptions rule)
    {
        if (current.Location is not { HasCoordinates: true } here || history.FirstOrDefault(o => o.Location is { HasCoordinates: true }) is not { } previous)
        {
            return null;
        }

        var there = previous.Location!;
        var distance = DistanceKm(there.Latitude!.Value, there.Longitude!.Value, here.Latitude!.Value, here.Longitude!.Value);
        var hours = Math.Max((current.At - previous.At).TotalHours, 1.0 / 3600); // a second at least: the same instant is not infinitely fast
        var speed = distance / hours;
        return distance >= rule.MinDistanceKm && speed > rule.MaxSpeedKmh
            ? Evidence(previous, current, ("distance_km", Number(distance)), ("speed_kmh", Number(speed)), ("max_speed_kmh", Number(rule.MaxSpeedKmh)))
            : null;
    }

    private static Dictionary<string, string?>? TwoCountries(Observation current, IReadOnlyList<Observation> history, AnomalyRuleOptions rule)
    {
        if (current.Location?.Country is not { } country)
        {
            return null;
        }

        var other = history.FirstOrDefault(o => current.At - o.At <= rule.Window && o.Location?.Country is { } c && c != country);
        return other is null ? null : Evidence(other, current, ("window", rule.Window.ToString("c", CultureInfo.InvariantCulture)), Distance(other, current), Speed(other, current));
    }

    private static Dictionary<string, string?>? NewCountry(Observation current, IReadOnlyList<Observation> history)
    {
        var known = history.Select(o => o.Location?.Country).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return current.Location?.Country is { } country && known.Count > 0 && !known.Contains(country)
            ? Evidence(history.First(o => o.Location?.Country is not null), current, ("known_countries", string.Join(' ', known.Order(StringComparer.Ordinal))))
            : null;
    }

    /// <summary>A refresh token or a Tessera token presented from another country than the sign-in it was issued to.</summary>
    private static Dictionary<string, string?>? TokenUsedElsewhere(Observation current, Observation? issuedTo) =>
        issuedTo?.Location?.Country is { } issued && current.Location?.Country is { } country && issued != country
            ? Evidence(issuedTo, current, Distance(issuedTo, current))
            : null;

    /// <summary>The great-circle distance between two points (haversine), in kilometres.</summary>
    public static double DistanceKm(double latitude1, double longitude1, double latitude2, double longitude2)
    {
        static double Radians(double degrees) => degrees * Math.PI / 180;
        var dLat = Radians(latitude2 - latitude1);
        var dLon = Radians(longitude2 - longitude1);
        var a = Math.Pow(Math.Sin(dLat / 2), 2) + (Math.Cos(Radians(latitude1)) * Math.Cos(Radians(latitude2)) * Math.Pow(Math.Sin(dLon / 2), 2));
        return 2 * EarthRadiusKm * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    private static (string, string?) Distance(Observation from, Observation to) =>
        from.Location is { HasCoordinates: true } a && to.Location is { HasCoordinates: true } b
            ? ("distance_km", Number(DistanceKm(a.Latitude!.Value, a.Longitude!.Value, b.Latitude!.Value, b.Longitude!.Value)))
            : ("distance_km", null);

    private static (string, string?) Speed(Observation from, Observation to) =>
        from.Location is { HasCoordinates: true } a && to.Location is { HasCoordinates: true } b
            ? ("speed_kmh", Number(DistanceKm(a.Latitude!.Value, a.Longitude!.Value, b.Latitude!.Value, b.Longitude!.Value) / Math.Max((to.At - from.At).TotalHours, 1.0 / 3600)))
            : ("speed_kmh", null);

    private static Dictionary<string, string?> Evidence(Observation previous, Observation current, params (string Key, string? Value)[] more)
    {
        var evidence = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["previous_country"] = previous.Location?.Country,
            ["previous_city"] = previous.Location?.City,
            ["previous_address"] = previous.Address,
            ["previous_at"] = previous.At.ToString("O", CultureInfo.InvariantCulture),
            ["country"] = current.Location?.Country,
            ["city"] = current.Location?.City,
            ["address"] = current.Address,
            ["at"] = current.At.ToString("O", CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in more)
        {
            evidence[key] = value;
        }

        return evidence;
    }

    private static string Number(double value) => Math.Round(value).ToString("F0", CultureInfo.InvariantCulture);
}
