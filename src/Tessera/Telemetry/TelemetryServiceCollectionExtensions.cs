using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Tessera.Hosting;

namespace Tessera.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Tessera's instruments, always (they cost a branch when unobserved), and the OpenTelemetry SDK only for the signals
    /// <see cref="TelemetryExport"/> says leave the process: traces and metrics to OTLP, metrics to Prometheus.
    /// </summary>
    public static IServiceCollection AddTesseraTelemetry(this IServiceCollection services, IConfiguration configuration, TelemetryOptions options, StorageProvider storage)
    {
        services.AddTesseraInstruments();
        var export = TelemetryExport.Read(configuration, options);
        if (!export.Traces && !export.Metrics)
        {
            return services;
        }

        var otel = services.AddOpenTelemetry().ConfigureResource(resource => resource
            .AddService("tessera", serviceVersion: TesseraTelemetry.Version)
            .AddEnvironmentVariableDetector()); // again, after the default name: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
        if (export.Traces)
        {
            otel.WithTracing(tracing => tracing.AddTesseraInstrumentation(storage).AddOtlpExporter());
        }

        if (export.Metrics)
        {
            otel.WithMetrics(metrics =>
            {
                metrics.AddTesseraInstrumentation();
                if (export.OtlpMetrics)
                {
                    metrics.AddOtlpExporter();
                }

                if (export.PrometheusUrls.Count > 0)
                {
                    metrics.AddPrometheusListener(export.PrometheusUrls);
                }
            });
        }

        return services;
    }

    /// <summary>Tessera's instruments alone, exported by nothing: for the maintenance commands, which share services with the server.</summary>
    public static IServiceCollection AddTesseraInstruments(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<Signals.SignalBacklog>();
        services.AddSingleton<TesseraTelemetry>();
        return services;
    }

    /// <summary>
    /// What Tessera traces: its own spans, incoming requests (not the probes), outgoing HTTP calls, and the database:
    /// Npgsql's own spans on PostgreSQL (they also cover the commands EF Core does not issue), EF Core's on SQLite.
    /// Query strings are dropped from request spans: on this server they carry codes, states and login hints.
    /// </summary>
    public static TracerProviderBuilder AddTesseraInstrumentation(this TracerProviderBuilder tracing, StorageProvider storage)
    {
        tracing.AddSource(TesseraTelemetry.Name)
            .AddAspNetCoreInstrumentation(aspNetCore =>
            {
                aspNetCore.Filter = http => !IsProbe(http.Request.Path);
                aspNetCore.EnrichWithHttpRequest = (activity, _) =>
                {
                    activity.SetTag("url.query", null);
                    activity.SetTag("client.address", null);
                };
            })
            .AddHttpClientInstrumentation(http =>
                http.EnrichWithHttpRequestMessage = (activity, request) =>
                {
                    if (request.RequestUri is { Query.Length: > 0 } uri)
                    {
                        activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Path));
                    }
                });
        return storage == StorageProvider.Postgres
            ? tracing.AddSource("Npgsql")
            : tracing.AddEntityFrameworkCoreInstrumentation(); // statements only: parameter values are never recorded by default
    }

    /// <summary>Tessera's meter, the server's and HTTP client's request metrics, the runtime's, and Npgsql's.</summary>
    public static MeterProviderBuilder AddTesseraInstrumentation(this MeterProviderBuilder metrics) =>
        metrics.AddMeter(TesseraTelemetry.Name)
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation()
            .AddMeter("System.Runtime", "Npgsql");

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz", StringComparison.Ordinal) || path.StartsWithSegments("/readyz", StringComparison.Ordinal);
}
