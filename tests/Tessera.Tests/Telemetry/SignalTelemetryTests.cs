using System.Diagnostics;
using Tessera.Telemetry;
using Tessera.Tests.Infrastructure;
using Tessera.Tests.Signals;
using Tags = Tessera.Telemetry.TesseraTelemetry.Tags;

namespace Tessera.Tests.Telemetry;

/// <summary>What revocation leaves in traces and metrics: a span per delivery, the lag to each receiver, the backlog, the audit lag.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class SignalTelemetryTests
{
    [Fact]
    public async Task A_deactivation_traces_each_delivery_and_measures_its_lag_the_backlog_and_the_audit_lag()
    {
        var telemetry = new TelemetryCapture();
        await using var x = await SignalArrangement.StartAsync(services: telemetry.Compose);
        telemetry.From(x.Server);
        using var browser = x.Server.CreateBrowser();
        await x.SignInToBothAppsAsync(browser);
        var scim = x.Scim();
        var id = await x.ProvisionAsync(scim);

        await x.SetActiveAsync(scim, id, active: false);
        await x.Reports.WaitForAsync(1);
        await x.Billing.WaitForAsync(1);
        await x.Api.WaitForAsync(2); // session revoked, account disabled

        var delivered = await WaitForAsync(() => telemetry.SpansNamed(TesseraTelemetry.Spans.SignalDelivery), spans => spans.Count >= 4);
        Assert.All(delivered, span =>
        {
            Assert.Equal(ActivityKind.Producer, span.Kind);
            Assert.Equal(TesseraTelemetry.Success, span.GetTagItem(Tags.Outcome));
            Assert.Equal(202, span.GetTagItem(Tags.Status)); // what the test receivers answer, logout and push alike
        });
        Assert.Equal(new[] { TestConfiguration.WebClient, TestConfiguration.PublicClient, SignalArrangement.ApiReceiver }.Order(StringComparer.Ordinal),
            delivered.Select(s => (string)s.GetTagItem(Tags.Destination)!).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(2, telemetry.Counter("tessera.signals.deliveries", (Tags.Channel, "backchannel-logout"), (Tags.Outcome, "delivered")));
        Assert.Equal(2, telemetry.Counter("tessera.signals.delivery.lag", (Tags.Channel, "push"), (Tags.Outcome, "delivered")));
        Assert.True(telemetry.Counter("tessera.audit.write.lag") > 0);

        // The poll receiver never polls: its SETs wait, and the gauge says so once someone reads it.
        var backlog = await WaitForAsync(() => telemetry.Counter("tessera.signals.backlog", (Tags.Channel, "poll")), value => value >= 2);
        Assert.True(backlog >= 2, $"poll backlog {backlog}");
        Assert.Equal(0, telemetry.Counter("tessera.signals.backlog", (Tags.Channel, "push")));
    }

    private static async Task<T> WaitForAsync<T>(Func<T> read, Func<T, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var value = read();
        while (!until(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            value = read();
        }

        return value;
    }
}
