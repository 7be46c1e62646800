using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Tessera.Hosting;
using Tessera.Risk;
using Tessera.Telemetry;
using Tessera.Tests.Infrastructure;
using Tags = Tessera.Telemetry.TesseraTelemetry.Tags;

namespace Tessera.Tests.Telemetry;

/// <summary>What anomaly detection leaves in traces and metrics: a count per detection by rule and action, a span per evaluation.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class AnomalyTelemetryTests
{
    private const string Proxy = "10.1.2.3";
    private const string London = "203.0.113.10";
    private const string NewYork = "198.51.100.20";

    /// <summary>Places the test's two addresses; knows no others.</summary>
    private sealed class FakeLocator : IGeoLocator
    {
        public GeoLocation? Locate(IPAddress address) => address.ToString() switch
        {
            London => new("GB", "London", 51.5072, -0.1276),
            NewYork => new("US", "New York", 40.7128, -74.0060),
            _ => null,
        };
    }

    [Fact]
    public async Task A_blocked_second_country_counts_once_under_its_rule_and_action_and_each_evaluation_is_a_span_naming_no_place()
    {
        var telemetry = new TelemetryCapture();
        await using var env = await BrokeredSignIn.StartAsync(options =>
        {
            options.Network.TrustedProxies = ["10.0.0.0/8"];
            options.Anomaly.Rules = [new AnomalyRuleOptions { Rule = AnomalyRuleOptions.TwoCountries, Action = AnomalyActions.Block }];
        }, services: services =>
        {
            telemetry.Compose(services);
            services.Replace(ServiceDescriptor.Singleton<IGeoLocator>(new FakeLocator()));
        });
        telemetry.From(env.Server);
        using (var home = From(env, London))
        {
            await env.SignInAsync(home, "openid email");
        }

        using var abroad = From(env, NewYork);
        var blocked = await Oauth.AuthorizeAsync(abroad, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid email",
            new Dictionary<string, string?> { ["login_hint"] = env.Idp.Person.Email });

        Assert.Null(blocked.Code);
        Assert.Equal(1, telemetry.Counter("tessera.anomalies", (Tags.Rule, AnomalyRuleOptions.TwoCountries), (Tags.Action, AnomalyActions.Block)));
        Assert.Equal(1, telemetry.Counter("tessera.anomalies"));
        Assert.DoesNotContain(telemetry.Points(), p => p.Metric == "tessera.anomalies" && p.Tags.Count != 2);

        var spans = telemetry.SpansNamed(TesseraTelemetry.Spans.AnomalyEvaluate);
        Assert.Equal(2, spans.Count);
        Assert.All(spans, span =>
        {
            Assert.Equal(AnomalyResponse.SignIn, span.GetTagItem(Tags.AnomalyRequest));
            Assert.Equal(TestConfiguration.Organization, span.GetTagItem(Tags.Organization));
            Assert.NotNull(span.GetTagItem(Tags.Connection));
            Assert.Equal(TesseraTelemetry.Spans.UpstreamCallback, span.Parent?.OperationName);
        });
        Assert.Equal(0, spans[0].GetTagItem(Tags.AnomalyDetections));
        Assert.Null(spans[0].GetTagItem(Tags.Action));
        Assert.Equal(1, spans[1].GetTagItem(Tags.AnomalyDetections));
        Assert.Equal(AnomalyActions.Block, spans[1].GetTagItem(Tags.Action));
        Assert.DoesNotContain(spans.SelectMany(s => s.TagObjects), t => t.Value?.ToString() is London or NewYork or "GB" or "US" or "London" or "New York");
    }

    [Fact]
    public async Task A_failure_burst_counts_once_under_FailureBurst_and_its_action()
    {
        var telemetry = new TelemetryCapture();
        await using var server = await TesseraTestServer.StartAsync(options =>
        {
            ScimClient.Configure(options);
            options.Anomaly.Rules = [new AnomalyRuleOptions { Rule = AnomalyRuleOptions.FailureBurst, Action = AnomalyActions.Log, MaxFailuresPerAddress = 3, MaxFailuresPerClient = 0 }];
        }, new FakeTimeProvider(DateTimeOffset.UtcNow), services: telemetry.Compose);
        telemetry.From(server);
        using var guesser = new HttpClient(server.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(London))) { BaseAddress = server.BaseAddress };

        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"scim/v2/{TestConfiguration.Organization}/Users");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", $"guess-{i}");
            using var refused = await guesser.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await server.AuditAsync(rows => rows.Any(r => r.Event == "anomaly.detected"));

        Assert.Equal(1, telemetry.Counter("tessera.anomalies", (Tags.Rule, AnomalyRuleOptions.FailureBurst), (Tags.Action, AnomalyActions.Log)));
        Assert.Equal(1, telemetry.Counter("tessera.anomalies"));
    }

    /// <summary>A browser behind the trusted proxy, which names <paramref name="client"/> as the client.</summary>
    private static Browser From(BrokeredSignIn env, string client)
    {
        var browser = env.Server.CreateBrowser(context => context.Connection.RemoteIpAddress = IPAddress.Parse(Proxy));
        browser.TesseraHeaders["X-Forwarded-For"] = client;
        return browser;
    }
}
