using Tessera.Hosting;
using Tessera.Risk;

namespace Tessera.Tests.Risk;

/// <summary>The anomaly rules on their own: which sequences of sign-ins each rule flags, and which it lets be.</summary>
public sealed class AnomalyRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private static readonly GeoLocation London = new("GB", "London", 51.5072, -0.1276);
    private static readonly GeoLocation Manchester = new("GB", "Manchester", 53.4808, -2.2426);
    private static readonly GeoLocation NewYork = new("US", "New York", 40.7128, -74.0060);
    private static readonly GeoLocation Paris = new("FR", "Paris", 48.8566, 2.3522);
    private static readonly GeoLocation Dover = new("GB", "Dover", 51.1279, 1.3134);
    private static readonly GeoLocation Calais = new("FR", "Calais", 50.9513, 1.8587);

    private static Observation At(TimeSpan after, GeoLocation? where, string address = "203.0.113.9") => new(T0 + after, address, where);

    public static TheoryData<string, string, Observation, Observation[], bool> Rows => new()
    {
        // what it stands for, rule, this sign-in, earlier ones (newest first), fires
        { "London then New York within the hour: faster than a plane", AnomalyRuleOptions.ImpossibleTravel, At(TimeSpan.FromHours(1), NewYork), [At(TimeSpan.Zero, London)], true },
        { "London then New York ten hours later: a flight", AnomalyRuleOptions.ImpossibleTravel, At(TimeSpan.FromHours(10), NewYork), [At(TimeSpan.Zero, London)], false },
        { "London then Manchester a minute later: under the minimum distance, geolocation noise", AnomalyRuleOptions.ImpossibleTravel, At(TimeSpan.FromMinutes(1), Manchester), [At(TimeSpan.Zero, London)], false },
        { "the same city twice", AnomalyRuleOptions.ImpossibleTravel, At(TimeSpan.FromMinutes(5), London), [At(TimeSpan.Zero, London)], false },
        { "no coordinates for this sign-in: nothing to measure", AnomalyRuleOptions.ImpossibleTravel, At(TimeSpan.FromMinutes(5), new GeoLocation("US", null, null, null)), [At(TimeSpan.Zero, London)], false },
        { "the last located sign-in is compared, past unlocated ones", AnomalyRuleOptions.ImpossibleTravel, At(TimeSpan.FromHours(1), NewYork), [At(TimeSpan.FromMinutes(30), null), At(TimeSpan.Zero, London)], true },
        { "the first sign-in of a user: nothing to compare with", AnomalyRuleOptions.ImpossibleTravel, At(TimeSpan.Zero, NewYork), [], false },
        { "Great Britain then the United States within ten minutes", AnomalyRuleOptions.TwoCountries, At(TimeSpan.FromMinutes(9), NewYork), [At(TimeSpan.Zero, London)], true },
        { "Great Britain then the United States eleven minutes apart", AnomalyRuleOptions.TwoCountries, At(TimeSpan.FromMinutes(11), NewYork), [At(TimeSpan.Zero, London)], false },
        { "Dover then Calais within ten minutes: two countries, though close", AnomalyRuleOptions.TwoCountries, At(TimeSpan.FromMinutes(5), Calais), [At(TimeSpan.Zero, Dover)], true },
        { "two sign-ins in the same country", AnomalyRuleOptions.TwoCountries, At(TimeSpan.FromMinutes(5), Manchester), [At(TimeSpan.Zero, London)], false },
        { "a country never seen before", AnomalyRuleOptions.NewCountry, At(TimeSpan.FromDays(2), Paris), [At(TimeSpan.FromDays(1), London), At(TimeSpan.Zero, Manchester)], true },
        { "a country seen before", AnomalyRuleOptions.NewCountry, At(TimeSpan.FromDays(2), London), [At(TimeSpan.FromDays(1), Paris), At(TimeSpan.Zero, Manchester)], false },
        { "no history: the first country is not new", AnomalyRuleOptions.NewCountry, At(TimeSpan.Zero, Paris), [], false },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Each_rule_flags_what_it_stands_for(string sequence, string rule, Observation current, Observation[] history, bool fires)
    {
        var detections = AnomalyRules.Evaluate(current, history, [new AnomalyRuleOptions { Rule = rule, Action = AnomalyActions.Block }]);

        Assert.True(fires == (detections.Count == 1), $"{sequence}: expected {(fires ? "a detection" : "none")}, got {detections.Count}");
    }

    [Fact]
    public void Impossible_travel_evidence_names_both_places_the_distance_and_the_speed()
    {
        var detection = Assert.Single(AnomalyRules.Evaluate(At(TimeSpan.FromHours(1), NewYork, "198.51.100.7"), [At(TimeSpan.Zero, London, "203.0.113.9")],
            [new AnomalyRuleOptions { Rule = AnomalyRuleOptions.ImpossibleTravel, Action = AnomalyActions.Revoke }]));

        Assert.Equal(AnomalyActions.Revoke, detection.Action);
        Assert.Equal(("GB", "US", "203.0.113.9", "198.51.100.7"), (detection.Evidence["previous_country"], detection.Evidence["country"], detection.Evidence["previous_address"], detection.Evidence["address"]));
        Assert.InRange(double.Parse(detection.Evidence["distance_km"]!, System.Globalization.CultureInfo.InvariantCulture), 5560, 5590); // London to New York
        Assert.InRange(double.Parse(detection.Evidence["speed_kmh"]!, System.Globalization.CultureInfo.InvariantCulture), 5560, 5590);
    }

    [Theory]
    [InlineData(51.5072, -0.1276, 48.8566, 2.3522, 343)] // London to Paris
    [InlineData(-33.8688, 151.2093, 51.5072, -0.1276, 16994)] // Sydney to London
    [InlineData(0, 0, 0, 180, 20015)] // half the equator
    public void The_great_circle_distance_is_the_haversine_one(double lat1, double lon1, double lat2, double lon2, double kilometres) =>
        Assert.InRange(AnomalyRules.DistanceKm(lat1, lon1, lat2, lon2), kilometres - 5, kilometres + 5);
}
