using OpenTelemetry.Metrics;

namespace Tessera.Telemetry;

/// <summary>
/// The optional Prometheus scrape endpoint: <c>/metrics</c> on listeners of its own (<c>Telemetry.PrometheusUrls</c>),
/// apart from the server's port, so that the metrics can be reached from the monitoring network only.
/// </summary>
public static class PrometheusListener
{
    public const string ScrapePath = "/metrics";

    public static void Validate(Hosting.TelemetryOptions options, Action<string, string> error)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.PrometheusUrls.Count; i++)
        {
            var value = options.PrometheusUrls[i];
            var path = $"$.Tessera.Telemetry.PrometheusUrls[{i}]";
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                error(path, "must be an http://host:port URL (the listener serves plain HTTP)");
            }
            else if (uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                error(path, $"must be only a scheme, host and port: the scrape path is {ScrapePath}");
            }
            else if (!seen.Add(uri.Authority))
            {
                error(path, $"'{uri.Authority}' is listed twice");
            }
        }
    }

    /// <summary>A URL that <see cref="Validate"/> accepted.</summary>
    public static Uri Parse(string value) => new(value, UriKind.Absolute);

    /// <summary>One HTTP listener serving <c>/metrics</c> at every configured address.</summary>
    public static MeterProviderBuilder AddPrometheusListener(this MeterProviderBuilder metrics, IReadOnlyList<Uri> urls) =>
        metrics.AddPrometheusHttpListener(listener =>
        {
            listener.Host = urls[0].Host;
            listener.Port = urls[0].Port;
            listener.ScrapeEndpointPath = ScrapePath;
            listener.ConfigureHttpListener = (_, http) =>
            {
                http.Prefixes.Clear();
                foreach (var url in urls)
                {
                    http.Prefixes.Add($"http://{url.Authority}{ScrapePath}/");
                }
            };
        });
}
