namespace Tessera.Telemetry;

/// <summary>
/// What leaves the process, decided once at start from the standard <c>OTEL_*</c> variables and
/// <c>Telemetry.PrometheusUrls</c>. A signal nobody exports is not composed at all: no provider, no listener, so the
/// instrumentation stays inert and the token path pays nothing for it.
/// </summary>
/// <param name="OtlpTraces">An OTLP endpoint is configured and <c>OTEL_TRACES_EXPORTER</c> does not turn traces off.</param>
/// <param name="OtlpMetrics">The same for metrics and <c>OTEL_METRICS_EXPORTER</c>.</param>
public sealed record TelemetryExport(bool OtlpTraces, bool OtlpMetrics, IReadOnlyList<Uri> PrometheusUrls)
{
    public bool Traces => OtlpTraces;

    public bool Metrics => OtlpMetrics || PrometheusUrls.Count > 0;

    /// <summary>
    /// The OpenTelemetry SDK reads the endpoint, protocol, headers, service name and sampler itself; it does not read
    /// the exporter selection, nor does it stay quiet without an endpoint (it would send to localhost:4317), so those
    /// two decisions are made here. Only <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> counts: the per-signal exporters the SDK
    /// composes here do not read the per-signal endpoints (<c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>, ...), so
    /// honouring those here would send to the default address instead.
    /// </summary>
    public static TelemetryExport Read(IConfiguration configuration, Hosting.TelemetryOptions options)
    {
        if (string.Equals(configuration["OTEL_SDK_DISABLED"]?.Trim(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return new TelemetryExport(false, false, []);
        }

        var endpoint = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        return new TelemetryExport(
            endpoint && SelectsOtlp(configuration["OTEL_TRACES_EXPORTER"]),
            endpoint && SelectsOtlp(configuration["OTEL_METRICS_EXPORTER"]),
            options.PrometheusUrls.Select(PrometheusListener.Parse).ToList());
    }

    /// <summary>The exporter list (comma-separated): unset means <c>otlp</c>; <c>none</c>, or a list without <c>otlp</c>, turns OTLP off.</summary>
    private static bool SelectsOtlp(string? value) =>
        string.IsNullOrWhiteSpace(value) || value.Split(',').Any(name => string.Equals(name.Trim(), "otlp", StringComparison.OrdinalIgnoreCase));
}
