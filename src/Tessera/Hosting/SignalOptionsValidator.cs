using Tessera.Signals;
using static Tessera.Hosting.TesseraOptionsValidator;

namespace Tessera.Hosting;

/// <summary>Checks <c>Signals</c>: receivers that can be reached and named, and retry timings that make sense together.</summary>
public static class SignalOptionsValidator
{
    public static void Validate(TesseraOptions options, Action<string, string> error)
    {
        var signals = options.Signals;
        void Between(TimeSpan value, string name, TimeSpan min, TimeSpan max)
        {
            if (value < min || value > max)
            {
                error($"$.Tessera.Signals.{name}", $"must be between {min} and {max}");
            }
        }

        Between(signals.PollInterval, nameof(signals.PollInterval), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        Between(signals.DeliveryTimeout, nameof(signals.DeliveryTimeout), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
        Between(signals.MaxRetryDelay, nameof(signals.MaxRetryDelay), TimeSpan.FromSeconds(1), TimeSpan.FromHours(6));
        Between(signals.GiveUpAfter, nameof(signals.GiveUpAfter), TimeSpan.FromMinutes(1), TimeSpan.FromDays(30));
        Between(signals.LongPollTimeout, nameof(signals.LongPollTimeout), TimeSpan.Zero, TimeSpan.FromMinutes(5));

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var organizations = options.Organizations.Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < signals.Receivers.Count; i++)
        {
            var receiver = signals.Receivers[i];
            var path = $"$.Tessera.Signals.Receivers[{i}]";
            if (!IdentifierPattern().IsMatch(receiver.Id))
            {
                error($"{path}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
            }
            else if (!ids.Add(receiver.Id))
            {
                error($"{path}.Id", $"'{receiver.Id}' is used by another receiver");
            }

            switch (receiver.Delivery)
            {
                case SignalReceiverOptions.Push when receiver.Endpoint is null:
                    error($"{path}.Endpoint", "push delivery needs the URL SETs are posted to");
                    break;
                case SignalReceiverOptions.Push:
                    ValidateHttpUri(receiver.Endpoint, $"{path}.Endpoint", error);
                    break;
                case SignalReceiverOptions.Poll:
                    if (receiver.Endpoint is not null)
                    {
                        error($"{path}.Endpoint", "a poll receiver fetches its SETs from Tessera; it has no endpoint");
                    }

                    if (string.IsNullOrEmpty(receiver.Authorization))
                    {
                        error($"{path}.Authorization", "a poll receiver proves who it is with this header value; it is required");
                    }

                    break;
                default:
                    error($"{path}.Delivery", "must be 'push' or 'poll'");
                    break;
            }

            if (receiver.Audience is { } audience && (audience.Length == 0 || audience.Any(char.IsWhiteSpace)))
            {
                error($"{path}.Audience", "must be a non-empty identifier without spaces");
            }

            for (var e = 0; e < receiver.Events.Count; e++)
            {
                if (!SignalTypes.Names.Contains(receiver.Events[e]))
                {
                    error($"{path}.Events[{e}]", $"unknown event '{receiver.Events[e]}' (known: {string.Join(", ", SignalTypes.Names)})");
                }
            }

            for (var o = 0; o < receiver.Organizations.Count; o++)
            {
                if (!organizations.Contains(receiver.Organizations[o]))
                {
                    error($"{path}.Organizations[{o}]", $"no organization '{receiver.Organizations[o]}'");
                }
            }

            if (receiver.SigningAlgorithm is not ("ES256" or "RS256"))
            {
                error($"{path}.SigningAlgorithm", "must be ES256 or RS256");
            }
        }
    }

    /// <summary>Where Tessera posts a signal: http(s) only, https unless loopback, no fragment.</summary>
    public static void ValidateHttpUri(string? value, string path, Action<string, string> error)
    {
        if (value is null || !IsAbsolute(value, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            error(path, "must be an absolute http(s) URL");
            return;
        }

        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            error(path, "must not contain a fragment");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            error(path, "must use https unless the host is a loopback address");
        }
    }
}
