using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Tessera.Telemetry;
using Tessera.Tests.Infrastructure;
using Tags = Tessera.Telemetry.TesseraTelemetry.Tags;

namespace Tessera.Tests.Telemetry;

/// <summary>Token issuance and SCIM in the metrics, the Prometheus listener, and nothing composed when nothing exports.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class ServerTelemetryTests
{
    [Fact]
    public async Task Client_credentials_count_tokens_issued_under_their_grant_type_and_refusals_not_at_all()
    {
        var telemetry = new TelemetryCapture();
        await using var server = await TesseraTestServer.StartAsync(services: telemetry.Compose);
        telemetry.From(server);
        using var http = server.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "write:orders")).Status);
        }

        Assert.Equal(401, (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, "not-the-secret", "write:orders")).Status);

        Assert.Equal(3, telemetry.Counter("tessera.tokens.issued", (Tags.GrantType, "client_credentials")));
        Assert.Equal(3, telemetry.Counter("tessera.tokens.issued"));
        Assert.Equal(3, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean"))); // HTTP Basic, as Oauth sends it
        Assert.DoesNotContain(telemetry.Points(), p => p.Metric == "tessera.tokens.issued" && p.Tags.Count != 2);
    }

    [Fact]
    public async Task A_SCIM_request_is_a_span_and_a_count_by_operation_and_status_naming_only_an_authenticated_organization()
    {
        var telemetry = new TelemetryCapture();
        await using var server = await TesseraTestServer.StartAsync(options => ScimClient.Configure(options), services: telemetry.Compose);
        telemetry.From(server);
        using var http = server.CreateClient();
        var scim = new ScimClient(http, TestConfiguration.Organization, ScimClient.StMarysToken);

        var created = await scim.PostAsync("Users", new { schemas = new[] { "urn:ietf:params:scim:schemas:core:2.0:User" }, userName = "bob@stmarys.example", active = true });
        Assert.Equal(201, created.Status);
        Assert.Equal(200, (await scim.GetAsync("Users/" + created.Id)).Status);
        Assert.Equal(401, (await new ScimClient(http, "made-up-organization", "not-a-token").GetAsync("Users")).Status);

        Assert.Equal(1, telemetry.Counter("tessera.scim.operations", (Tags.ScimOperation, "Users.create"), (Tags.Status, 201), (Tags.Organization, TestConfiguration.Organization)));
        Assert.Equal(1, telemetry.Counter("tessera.scim.operations", (Tags.ScimOperation, "Users.get"), (Tags.Status, 200)));
        var refused = Assert.Single(telemetry.Points(), p => p.Metric == "tessera.scim.operations" && Equals(p.Tags[Tags.Status], 401));
        Assert.False(refused.Tags.ContainsKey(Tags.Organization));
        Assert.Equal("Users.list", refused.Tags[Tags.ScimOperation]);

        var spans = telemetry.SpansNamed(TesseraTelemetry.Spans.Scim);
        Assert.Equal(3, spans.Count);
        Assert.Contains(spans, s => (string?)s.GetTagItem(Tags.ScimOperation) == "Users.create" && (string?)s.GetTagItem(Tags.Organization) == TestConfiguration.Organization);
        Assert.DoesNotContain(spans.SelectMany(s => s.TagObjects), t => t.Value?.ToString()?.Contains("bob@", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Without_an_OTLP_endpoint_or_a_Prometheus_listener_no_OpenTelemetry_provider_is_composed()
    {
        await using var server = await TesseraTestServer.StartAsync();

        Assert.Null(server.Services.GetService<TracerProvider>());
        Assert.Null(server.Services.GetService<MeterProvider>());
        Assert.NotNull(server.Services.GetService<TesseraTelemetry>());

        // Nothing else in the process listens either (this collection runs alone): starting a span yields nothing.
        using var http = server.CreateClient();
        Assert.Equal(200, (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "write:orders")).Status);
        Assert.False(TesseraTelemetry.Source.HasListeners());
        Assert.Null(TesseraTelemetry.Start(TesseraTelemetry.Spans.UpstreamBegin));
    }

    [Fact]
    public async Task The_Prometheus_listener_serves_Tessera_metrics_on_its_own_port_and_traces_stay_uncomposed()
    {
        var port = FreePort();
        await using var server = await TesseraTestServer.StartAsync(options => options.Telemetry.PrometheusUrls = [$"http://127.0.0.1:{port}"]);
        using var http = server.CreateClient();
        Assert.Equal(200, (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "write:orders")).Status);

        using var scraper = new HttpClient();
        var metrics = await scraper.GetStringAsync($"http://127.0.0.1:{port}/metrics");

        Assert.Contains("tessera_tokens_issued_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("grant_type=\"client_credentials\"", metrics, StringComparison.Ordinal);
        Assert.Null(server.Services.GetService<TracerProvider>());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("metrics")).StatusCode);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
