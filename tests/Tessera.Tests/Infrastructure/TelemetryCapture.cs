using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Tessera.Hosting;
using Tessera.Telemetry;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// What a test server exports, read through OpenTelemetry's in-memory exporters where <c>tessera serve</c> would have
/// OTLP: the same instrumentation (<see cref="TelemetryServiceCollectionExtensions"/>), another exporter.
/// The listeners are process-wide, so tests that read counters run in <see cref="TelemetryCollection"/>, alone.
/// </summary>
public sealed class TelemetryCapture
{
    private readonly List<Activity> _spans = [];
    private readonly List<MetricSnapshot> _metrics = [];
    private IServiceProvider? _services;

    /// <summary>The composition change to hand to <see cref="TesseraTestServer.StartAsync"/> as <c>services</c>.</summary>
    public void Compose(IServiceCollection services)
    {
        var storage = TestDatabase.PostgresServer is null ? StorageProvider.Sqlite : StorageProvider.Postgres;
        services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddTesseraInstrumentation(storage).AddInMemoryExporter(_spans))
            .WithMetrics(metrics => metrics.AddTesseraInstrumentation().AddInMemoryExporter(_metrics));
    }

    /// <summary>Where <see cref="Counter"/> asks the meter provider to collect.</summary>
    public TelemetryCapture From(TesseraTestServer server)
    {
        _services = server.Services;
        return this;
    }

    /// <summary>Every span ended so far, of every source the server listens to.</summary>
    public IReadOnlyList<Activity> Spans
    {
        get
        {
            lock (_spans)
            {
                return [.. _spans];
            }
        }
    }

    public IReadOnlyList<Activity> SpansNamed(string name) => Spans.Where(s => s.OperationName == name).ToList();

    /// <summary>Every metric point collected now, as (metric name, tags, value).</summary>
    public IReadOnlyList<(string Metric, IReadOnlyDictionary<string, object?> Tags, double Value)> Points()
    {
        var provider = _services!.GetRequiredService<MeterProvider>();
        lock (_metrics)
        {
            _metrics.Clear();
        }

        provider.ForceFlush();
        lock (_metrics)
        {
            var points = new List<(string, IReadOnlyDictionary<string, object?>, double)>();
            foreach (var metric in _metrics)
            {
                foreach (var point in metric.MetricPoints)
                {
                    var tags = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var tag in point.Tags)
                    {
                        tags[tag.Key] = tag.Value;
                    }

                    points.Add((metric.Name, tags, Value(metric.MetricType, point)));
                }
            }

            return points;
        }
    }

    /// <summary>The sum of a counter's points whose tags include all of <paramref name="tags"/>.</summary>
    public double Counter(string name, params (string Key, object Value)[] tags) =>
        Points().Where(p => p.Metric == name && tags.All(t => p.Tags.TryGetValue(t.Key, out var value) && Equals(value?.ToString(), t.Value.ToString())))
            .Sum(p => p.Value);

    private static double Value(MetricType type, MetricPoint point) => type switch
    {
        MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
        MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => point.GetSumDouble(),
        MetricType.LongGauge => point.GetGaugeLastValueLong(),
        MetricType.DoubleGauge => point.GetGaugeLastValueDouble(),
        MetricType.Histogram or MetricType.ExponentialHistogram => point.GetHistogramCount(),
        _ => 0,
    };
}

/// <summary>Tests that read process-wide listeners: run after the parallel ones, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}
