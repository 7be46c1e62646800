using System.Diagnostics;
using Tessera.Telemetry;
using Tessera.Tests.Infrastructure;
using Tags = Tessera.Telemetry.TesseraTelemetry.Tags;

namespace Tessera.Tests.Telemetry;

/// <summary>What a brokered sign-in leaves in traces and metrics: the upstream leg, its outcome, and nothing secret.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class SignInTelemetryTests
{
    [Fact]
    public async Task A_brokered_sign_in_traces_the_upstream_leg_and_counts_a_success_for_its_connection()
    {
        var telemetry = new TelemetryCapture();
        await using var broker = await BrokeredSignIn.StartAsync(services: telemetry.Compose);
        telemetry.From(broker.Server);
        using var browser = broker.Server.CreateBrowser();

        await broker.SignInAsync(browser);

        var begin = Assert.Single(telemetry.SpansNamed(TesseraTelemetry.Spans.UpstreamBegin));
        var callback = Assert.Single(telemetry.SpansNamed(TesseraTelemetry.Spans.UpstreamCallback));
        var connector = Assert.Single(telemetry.SpansNamed(TesseraTelemetry.Spans.ConnectorComplete));
        foreach (var span in new[] { begin, callback, connector })
        {
            Assert.Equal(TestConfiguration.Organization, span.GetTagItem(Tags.Organization));
            Assert.Equal(TestConfiguration.Connection, span.GetTagItem(Tags.Connection));
            Assert.Equal("oidc", span.GetTagItem(Tags.Protocol));
            Assert.Equal(TesseraTelemetry.Success, span.GetTagItem(Tags.Outcome));
            Assert.NotEqual(ActivityStatusCode.Error, span.Status);
        }

        // One trace from the browser's request through the connector to its calls to the IdP's token endpoint.
        Assert.Equal(callback.SpanId, connector.ParentSpanId);
        Assert.Contains(telemetry.Spans, s => s.ParentSpanId == connector.SpanId && s.Kind == ActivityKind.Client
            && (s.GetTagItem("url.full") as string)?.EndsWith("/token", StringComparison.Ordinal) == true);
        Assert.Equal(1, telemetry.Counter("tessera.sign_ins", (Tags.Organization, TestConfiguration.Organization),
            (Tags.Connection, TestConfiguration.Connection), (Tags.Protocol, "oidc"), (Tags.Outcome, TesseraTelemetry.Success)));
        Assert.Equal(0, telemetry.Counter("tessera.sign_ins", (Tags.Outcome, TesseraTelemetry.Failure)));
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.GrantType, "authorization_code")));
    }

    [Fact]
    public async Task An_upstream_refusal_is_recorded_as_a_failure_with_its_error()
    {
        var telemetry = new TelemetryCapture();
        await using var broker = await BrokeredSignIn.StartAsync(services: telemetry.Compose);
        telemetry.From(broker.Server);
        broker.Idp.AuthorizeError = "access_denied";
        using var browser = broker.Server.CreateBrowser();

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["login_hint"] = broker.Idp.Person.Email });

        Assert.Null(outcome.Code);
        var connector = Assert.Single(telemetry.SpansNamed(TesseraTelemetry.Spans.ConnectorComplete));
        var callback = Assert.Single(telemetry.SpansNamed(TesseraTelemetry.Spans.UpstreamCallback));
        foreach (var span in new[] { connector, callback })
        {
            Assert.Equal(TesseraTelemetry.Failure, span.GetTagItem(Tags.Outcome));
            Assert.Equal("upstream_error", span.GetTagItem(Tags.Error));
            Assert.Equal(ActivityStatusCode.Error, span.Status);
            Assert.Equal(TestConfiguration.Connection, span.GetTagItem(Tags.Connection));
        }

        Assert.Equal(1, telemetry.Counter("tessera.sign_ins", (Tags.Connection, TestConfiguration.Connection),
            (Tags.Outcome, TesseraTelemetry.Failure), (Tags.Error, "upstream_error")));
        Assert.Equal(0, telemetry.Counter("tessera.sign_ins", (Tags.Outcome, TesseraTelemetry.Success)));
    }

    [Fact]
    public async Task No_span_or_metric_attribute_carries_a_token_code_secret_or_personal_value_of_the_sign_in()
    {
        var telemetry = new TelemetryCapture();
        await using var broker = await BrokeredSignIn.StartAsync(services: telemetry.Compose);
        telemetry.From(broker.Server);
        using var browser = broker.Server.CreateBrowser();

        var (outcome, tokens) = await broker.SignInAsync(browser);
        var refreshed = await Oauth.RefreshAsync(broker.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);
        Assert.Equal(200, refreshed.Status);

        var idp = broker.Idp;
        var person = idp.Person;
        var secrets = new Dictionary<string, string?>
        {
            ["upstream authorization code"] = idp.LastCode,
            ["upstream access token"] = idp.LastAccessToken,
            ["upstream ID token"] = idp.LastIdToken,
            ["upstream state"] = idp.LastAuthorizeRequest.GetValueOrDefault("state"),
            ["upstream nonce"] = idp.LastAuthorizeRequest.GetValueOrDefault("nonce"),
            ["upstream PKCE challenge"] = idp.LastAuthorizeRequest.GetValueOrDefault("code_challenge"),
            ["upstream client secret"] = FakeUpstreamIdp.ClientSecret,
            ["Tessera's authorization code"] = outcome.Code,
            ["the client's PKCE verifier"] = outcome.Verifier,
            ["the client's state"] = outcome.State,
            ["the client's nonce"] = outcome.Nonce,
            ["access token"] = tokens["access_token"],
            ["ID token"] = tokens["id_token"],
            ["refresh token"] = tokens["refresh_token"],
            ["rotated refresh token"] = refreshed["refresh_token"],
            ["email"] = person.Email,
            ["name"] = person.Name,
            ["upstream subject"] = person.Subject,
            ["internal user id"] = tokens.IdToken.Subject,
        };
        foreach (System.Net.Cookie cookie in browser.Cookies.GetAllCookies())
        {
            secrets[$"cookie {cookie.Name}"] = cookie.Value;
        }

        Assert.All(secrets, secret => Assert.False(string.IsNullOrEmpty(secret.Value), secret.Key));
        var spans = telemetry.Spans;
        Assert.NotEmpty(telemetry.SpansNamed(TesseraTelemetry.Spans.UpstreamCallback));
        var seen = spans.SelectMany(Texts).Concat(telemetry.Points().SelectMany(p => p.Tags.Select(t => $"{p.Metric} {t.Key}={t.Value}"))).ToList();
        foreach (var (name, value) in secrets)
        {
            var leak = seen.FirstOrDefault(text => text.Contains(value!, StringComparison.Ordinal));
            Assert.True(leak is null, $"{name} appears in telemetry: {leak}");
        }
    }

    /// <summary>Everything of a span an exporter sends: names, status, attributes, events and their attributes, baggage.</summary>
    private static IEnumerable<string> Texts(Activity span) =>
        new[] { $"{span.Source.Name} {span.OperationName} {span.DisplayName} {span.StatusDescription}" }
            .Concat(span.TagObjects.Select(t => $"{span.OperationName} {t.Key}={t.Value}"))
            .Concat(span.Events.SelectMany(e => e.Tags.Select(t => $"{span.OperationName} event {e.Name} {t.Key}={t.Value}")))
            .Concat(span.Baggage.Select(b => $"{span.OperationName} baggage {b.Key}={b.Value}"));
}
