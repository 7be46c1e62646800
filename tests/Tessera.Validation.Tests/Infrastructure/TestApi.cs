using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Tessera.Validation.Tests.Infrastructure;

/// <summary>
/// An API using the library with its one call, on a TestServer, with Tessera faked behind the backchannel and a
/// fake clock. <c>GET /orders</c> needs scope <c>read:orders</c> and answers the caller's sub.
/// </summary>
public sealed class TestApi : IAsyncDisposable
{
    public const string Audience = "https://orders.internal";
    public const string SignalsAuthorization = "Bearer signals-shared-secret";
    public static readonly DateTimeOffset Start = new(2031, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;

    private TestApi(WebApplication app, FakeTessera tessera, FakeTimeProvider time, TestKey key)
    {
        _app = app;
        Tessera = tessera;
        Time = time;
        Key = key;
        Client = app.GetTestClient();
    }

    public FakeTessera Tessera { get; }

    public FakeTimeProvider Time { get; }

    /// <summary>The key Tessera signs with (published in its JWKS).</summary>
    public TestKey Key { get; }

    public HttpClient Client { get; }

    public TesseraTokenValidator Validator => _app.Services.GetRequiredService<TesseraTokenValidator>();

    public TesseraValidationMetrics Metrics => _app.Services.GetRequiredService<TesseraValidationMetrics>();

    public static async Task<TestApi> StartAsync(Action<TesseraValidationOptions>? configure = null, TestKey? key = null)
    {
        key ??= TestKey.Es256("tessera-es256-1");
        var tessera = new FakeTessera(key);
        var time = new FakeTimeProvider(Start);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddTesseraValidation(options =>
        {
            options.Authority = FakeTessera.Issuer;
            options.Audience = Audience;
            options.ClientId = FakeTessera.ClientId;
            options.ClientSecret = FakeTessera.ClientSecret;
            options.RecheckAfter = TimeSpan.FromMinutes(5);
            options.BackchannelHandler = tessera;
            options.Signals.Authorization = SignalsAuthorization;
            configure?.Invoke(options);
        });

        var app = builder.Build();
        app.MapGet("/orders", (ClaimsPrincipal user) => Results.Json(new { sub = user.FindFirst("sub")?.Value }))
            .RequireAuthorization(policy => policy.RequireClaim("scope", "read:orders"));
        await app.StartAsync();
        return new TestApi(app, tessera, time, key);
    }

    /// <summary>The claims of a good access token for this API, issued now by Tessera.</summary>
    public JsonObject Claims(string sub = "3f0c9a52-7d1e-4b8a-9c61-2b7e5d4f8a10", string? sid = "sid-1", TimeSpan? lifetime = null)
    {
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = FakeTessera.IssuerName,
            ["aud"] = Audience,
            ["sub"] = sub,
            ["client_id"] = "pos-terminal",
            ["scope"] = "openid read:orders",
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["org"] = "st-marys",
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + (long)(lifetime ?? TimeSpan.FromHours(1)).TotalSeconds,
        };
        if (sid is not null)
        {
            claims["sid"] = sid;
        }

        return claims;
    }

    public static JsonObject AccessTokenHeader() => new() { ["typ"] = "at+jwt" };

    public string Token(JsonObject? claims = null, TestKey? key = null) => TestJwt.Sign(AccessTokenHeader(), claims ?? Claims(), key ?? Key);

    public Task<HttpResponseMessage> GetOrdersAsync(string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/orders");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Client.SendAsync(request);
    }

    /// <summary>Posts a SET as Tessera's push does (RFC 8935 §2).</summary>
    public Task<HttpResponseMessage> PushAsync(string body, string? contentType = "application/secevent+jwt", string? authorization = SignalsAuthorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/tessera/signals") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
        Tessera.Dispose();
        Key.Dispose();
    }
}
