using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tessera.Validation.Tests.Infrastructure;

namespace Tessera.Validation.Tests;

/// <summary>The whole ASP.NET Core pipeline of an API that made the one call: what clients and Tessera see over HTTP.</summary>
public sealed class PipelineTests
{
    [Fact]
    public async Task Request_with_a_good_token_reaches_the_endpoint_as_its_subject()
    {
        await using var api = await TestApi.StartAsync();

        var response = await api.GetOrdersAsync(api.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("3f0c9a52-7d1e-4b8a-9c61-2b7e5d4f8a10", body.RootElement.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task Request_without_a_token_gets_401_with_a_bare_bearer_challenge()
    {
        await using var api = await TestApi.StartAsync();

        var response = await api.Client.GetAsync("/orders");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).ToString());
    }

    [Fact]
    public async Task Request_with_a_bad_token_gets_401_invalid_token()
    {
        await using var api = await TestApi.StartAsync();
        var claims = api.Claims();
        claims["aud"] = "https://billing.internal";

        var response = await api.GetOrdersAsync(api.Token(claims));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.StartsWith("error=\"invalid_token\", error_description=\"", challenge.Parameter, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_without_the_required_scope_gets_403_insufficient_scope()
    {
        await using var api = await TestApi.StartAsync();
        var claims = api.Claims();
        claims["scope"] = "openid write:orders";

        var response = await api.GetOrdersAsync(api.Token(claims));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Bearer error=\"insufficient_scope\"", Assert.Single(response.Headers.WwwAuthenticate).ToString());
    }

    [Fact]
    public async Task Revoked_session_turns_the_next_request_into_401()
    {
        await using var api = await TestApi.StartAsync();
        var token = api.Token();
        Assert.Equal(HttpStatusCode.OK, (await api.GetOrdersAsync(token)).StatusCode);

        var push = await api.PushAsync(TestEvents.Sign(TestEvents.SessionRevokedClaims(api.Time.GetUtcNow(), "3f0c9a52-7d1e-4b8a-9c61-2b7e5d4f8a10", "sid-1"), api.Key));

        Assert.Equal(HttpStatusCode.Accepted, push.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetOrdersAsync(token)).StatusCode);
    }

    [Fact]
    public async Task Receiver_answers_only_post()
    {
        await using var api = await TestApi.StartAsync();

        var response = await api.Client.GetAsync("/tessera/signals");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["POST"], response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Receiver_path_and_audience_follow_the_options()
    {
        await using var api = await TestApi.StartAsync(o =>
        {
            o.Signals.Path = "/hooks/tessera";
            o.Signals.Audience = "orders-api-signals";
            o.Signals.Authorization = null;
        });
        var claims = TestEvents.AccountEnabledClaims(api.Time.GetUtcNow(), "3f0c9a52-7d1e-4b8a-9c61-2b7e5d4f8a10");
        claims["aud"] = "orders-api-signals";
        using var content = new StringContent(TestEvents.Sign(claims, api.Key));
        content.Headers.ContentType = new("application/secevent+jwt");

        var response = await api.Client.PostAsync("/hooks/tessera", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PushAsync("x")).StatusCode);
    }

    [Fact]
    public async Task Receiver_is_not_mounted_when_disabled()
    {
        await using var api = await TestApi.StartAsync(o => o.Signals.Enabled = false);

        Assert.Equal(HttpStatusCode.NotFound, (await api.PushAsync(TestEvents.Sign(TestEvents.AccountEnabledClaims(api.Time.GetUtcNow(), "u"), api.Key))).StatusCode);
    }

    [Fact]
    public async Task Receiver_answers_503_when_Tessera_keys_cannot_be_fetched_so_the_push_is_retried()
    {
        await using var api = await TestApi.StartAsync(o => o.BackchannelHandler = new UnreachableHandler());

        var response = await api.PushAsync(TestEvents.Sign(TestEvents.AccountEnabledClaims(api.Time.GetUtcNow(), "u"), api.Key));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Invalid_options_stop_the_app_at_start_with_every_problem()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTesseraValidation(o =>
        {
            o.Authority = "http://tessera.example";
            o.Algorithms = ["HS256"];
        });
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains("https", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Audience", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ClientId", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("HS256", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_binding_from_configuration_reads_every_documented_name()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tessera:Authority"] = "http://127.0.0.1:5080",
            ["Tessera:Audience"] = "https://orders.internal",
            ["Tessera:RecheckAfter"] = "01:00:00",
            ["Tessera:ClientId"] = "orders-api",
            ["Tessera:ClientSecret"] = "secret",
            ["Tessera:Algorithms:0"] = "ES256",
            ["Tessera:Signals:Authorization"] = "Bearer x",
        }).Build();
        var services = new ServiceCollection().AddTesseraValidation(configuration.GetSection("Tessera")).BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<TesseraValidationOptions>>().Value;

        Assert.Equal((TimeSpan.FromHours(1), "Bearer x"), (options.RecheckAfter, options.Signals.Authorization));
        Assert.Equal(["ES256"], options.Algorithms);
    }

    private sealed class UnreachableHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new HttpRequestException("Connection refused (fake).");
    }
}
