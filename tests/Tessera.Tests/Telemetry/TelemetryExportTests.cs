using Microsoft.Extensions.Configuration;
using Tessera.Hosting;
using Tessera.Telemetry;

namespace Tessera.Tests.Telemetry;

/// <summary>Which signals leave the process, from the standard OTEL_* variables and Telemetry.PrometheusUrls.</summary>
public sealed class TelemetryExportTests
{
    public sealed record Case(Dictionary<string, string?> Variables, bool Traces, bool Metrics);

    public static TheoryData<string, Case> Cases => new()
    {
        { "nothing configured: nothing exported (the SDK would otherwise send to localhost:4317)", new([], false, false) },
        { "an OTLP endpoint: both signals", new(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4318" }, true, true) },
        { "an empty endpoint counts as none", new(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = " " }, false, false) },
        { "a per-signal endpoint alone (the SDK's per-signal exporter would ignore it and send to its default)", new(new() { ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://collector:4318/v1/traces" }, false, false) },
        { "traces turned off by OTEL_TRACES_EXPORTER=none", new(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://c:4317", ["OTEL_TRACES_EXPORTER"] = "none" }, false, true) },
        { "metrics turned off by OTEL_METRICS_EXPORTER=none", new(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://c:4317", ["OTEL_METRICS_EXPORTER"] = "none" }, true, false) },
        { "an exporter list naming otlp", new(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://c:4317", ["OTEL_TRACES_EXPORTER"] = "console, OTLP" }, true, true) },
        { "OTEL_SDK_DISABLED=true wins over an endpoint", new(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://c:4317", ["OTEL_SDK_DISABLED"] = "TRUE" }, false, false) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_OTEL_variables_decide_which_signals_are_exported(string name, Case row)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(row.Variables).Build();

        var export = TelemetryExport.Read(configuration, new TelemetryOptions());

        Assert.True(row.Traces == export.Traces, name);
        Assert.True(row.Metrics == export.Metrics, name);
    }

    [Fact]
    public void A_Prometheus_listener_exports_metrics_without_OTLP_and_is_off_with_the_SDK()
    {
        var options = new TelemetryOptions { PrometheusUrls = ["http://127.0.0.1:9464"] };

        var export = TelemetryExport.Read(new ConfigurationBuilder().Build(), options);
        var disabled = TelemetryExport.Read(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_SDK_DISABLED"] = "true" }).Build(), options);

        Assert.True(export.Metrics);
        Assert.False(export.Traces);
        Assert.Equal(9464, Assert.Single(export.PrometheusUrls).Port);
        Assert.False(disabled.Metrics);
    }

    public static TheoryData<string, string, string?> PrometheusUrls => new()
    {
        { "a loopback listener", "http://127.0.0.1:9464", null },
        { "every interface", "http://0.0.0.0:9464", null },
        { "IPv6 loopback", "http://[::1]:9464", null },
        { "https (the listener serves plain HTTP)", "https://127.0.0.1:9464", "must be an http://host:port URL" },
        { "a path (the scrape path is fixed)", "http://127.0.0.1:9464/stats", "must be only a scheme, host and port" },
        { "a query", "http://127.0.0.1:9464/?x=1", "must be only a scheme, host and port" },
        { "credentials in the URL", "http://user:pw@127.0.0.1:9464", "must be only a scheme, host and port" },
        { "not a URL", "127.0.0.1:9464", "must be an http://host:port URL" },
    };

    [Theory]
    [MemberData(nameof(PrometheusUrls))]
    public void Prometheus_URLs_are_checked_with_the_rest_of_the_configuration(string name, string url, string? error)
    {
        var options = new TesseraOptions { Telemetry = new TelemetryOptions { PrometheusUrls = [url] } };

        var errors = TesseraOptionsValidator.Validate(options).Where(e => e.Path.StartsWith("$.Tessera.Telemetry", StringComparison.Ordinal)).ToList();

        if (error is null)
        {
            Assert.True(errors.Count == 0, $"{name}: {string.Join("; ", errors)}");
        }
        else
        {
            var found = Assert.Single(errors);
            Assert.Equal("$.Tessera.Telemetry.PrometheusUrls[0]", found.Path);
            Assert.Contains(error, found.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_same_listener_twice_is_refused()
    {
        var options = new TesseraOptions { Telemetry = new TelemetryOptions { PrometheusUrls = ["http://127.0.0.1:9464", "http://127.0.0.1:9464/"] } };

        var error = Assert.Single(TesseraOptionsValidator.Validate(options), e => e.Path.StartsWith("$.Tessera.Telemetry", StringComparison.Ordinal));

        Assert.Equal("$.Tessera.Telemetry.PrometheusUrls[1]", error.Path);
    }
}
