using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

/// <summary>The <c>Signals</c> block and clients' <c>BackchannelLogoutUri</c> are checked before anything starts.</summary>
public sealed class SignalValidationTests
{
    private const string Receiver = "$.Tessera.Signals.Receivers[0]";

    private static TesseraOptions Options(Action<TesseraOptions> change)
    {
        var options = TestConfiguration.Create(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = "Data Source=x.db" });
        options.Organizations.Add(new OrganizationOptions { Id = TestConfiguration.Organization });
        options.Signals.Receivers.Add(new SignalReceiverOptions { Id = "siem", Endpoint = "https://siem.example/events", Authorization = "Bearer x" });
        options.Signals.Receivers.Add(new SignalReceiverOptions { Id = "auditor", Delivery = "poll", Authorization = "Bearer y" });
        change(options);
        TesseraOptionsDefaults.Apply(options);
        return options;
    }

    private static SignalReceiverOptions First(TesseraOptions o) => o.Signals.Receivers[0];

    public static TheoryData<string, Action<TesseraOptions>, string> Rows => new()
    {
        { "push without an endpoint", o => First(o).Endpoint = null, $"{Receiver}.Endpoint: push delivery needs the URL" },
        { "plain http to another host", o => First(o).Endpoint = "http://siem.example/events", $"{Receiver}.Endpoint: must use https unless the host is a loopback address" },
        { "not a URL", o => First(o).Endpoint = "siem/events", $"{Receiver}.Endpoint: must be an absolute http(s) URL" },
        { "a non-http scheme", o => First(o).Endpoint = "ftp://siem.example/events", $"{Receiver}.Endpoint: must be an absolute http(s) URL" },
        { "unknown delivery", o => First(o).Delivery = "webhook", $"{Receiver}.Delivery: must be 'push' or 'poll'" },
        { "poll with an endpoint", o => o.Signals.Receivers[1].Endpoint = "https://x.example", "$.Tessera.Signals.Receivers[1].Endpoint: a poll receiver fetches its SETs" },
        { "poll anyone could call", o => o.Signals.Receivers[1].Authorization = null, "$.Tessera.Signals.Receivers[1].Authorization: a poll receiver proves who it is" },
        { "two receivers with one id", o => o.Signals.Receivers[1].Id = "siem", "$.Tessera.Signals.Receivers[1].Id: 'siem' is used by another receiver" },
        { "an id with a slash", o => First(o).Id = "siem/1", $"{Receiver}.Id: must be 1-100 characters" },
        { "an unknown event", o => First(o).Events = ["session-ended"], $"{Receiver}.Events[0]: unknown event 'session-ended'" },
        { "an unknown organization", o => First(o).Organizations = ["nowhere"], $"{Receiver}.Organizations[0]: no organization 'nowhere'" },
        { "an HMAC signature", o => First(o).SigningAlgorithm = "HS256", $"{Receiver}.SigningAlgorithm: must be ES256 or RS256" },
        { "an audience with spaces", o => First(o).Audience = "an api", $"{Receiver}.Audience: must be a non-empty identifier" },
        { "retries faster than a second", o => o.Signals.MaxRetryDelay = TimeSpan.FromMilliseconds(10), "$.Tessera.Signals.MaxRetryDelay: must be between" },
        { "giving up at once", o => o.Signals.GiveUpAfter = TimeSpan.Zero, "$.Tessera.Signals.GiveUpAfter: must be between" },
        { "a back-channel logout URI with a private scheme", o => o.Clients[0].BackchannelLogoutUri = "com.example.app:/logout", "$.Tessera.Clients[0].BackchannelLogoutUri: must be an absolute http(s) URL" },
        { "a back-channel logout URI over http elsewhere", o => o.Clients[0].BackchannelLogoutUri = "http://reports.example/logout", "$.Tessera.Clients[0].BackchannelLogoutUri: must use https" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_bad_signal_setting_is_refused_with_path_and_reason(string problem, Action<TesseraOptions> change, string expected)
    {
        var errors = ConfigurationCompiler.Compile(Options(change)).Errors.Select(e => e.Format(null)).ToList();

        Assert.True(errors.Any(e => e.StartsWith(expected, StringComparison.Ordinal)), $"{problem}: expected '{expected}', got: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void The_documented_shape_is_accepted_with_its_defaults()
    {
        var options = Options(_ => { });

        Assert.Empty(ConfigurationCompiler.Compile(options).Errors);
        Assert.Equal("push", First(options).Delivery);
        Assert.Equal("ES256", First(options).SigningAlgorithm);
        Assert.Equal(TimeSpan.FromMinutes(1), options.Signals.MaxRetryDelay);
    }
}
