using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// A destination of Tessera's signals on a real loopback port: a client's back-channel logout endpoint or a SET push
/// receiver. It records what arrives, and each test decides what it answers (acknowledge, refuse, fail, hang).
/// </summary>
public sealed class SignalReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Received> _received = new();
    private readonly ConcurrentQueue<Received> _acknowledged = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private SignalReceiver(WebApplication app, string baseUrl)
    {
        _app = app;
        Url = baseUrl + "/signals";
    }

    public string Url { get; }

    /// <summary>What the next requests get: 202 (or 200 for logout) by default.</summary>
    public Func<Received, int> Answer { get; set; } = _ => StatusCodes.Status202Accepted;

    /// <summary>While set, requests wait until it completes (a receiver stuck mid-request).</summary>
    public TaskCompletionSource? Hang { get; set; }

    /// <summary>Every request, acknowledged or not.</summary>
    public IReadOnlyCollection<Received> Requests => _received;

    /// <summary>Requests answered with 2xx: what the receiver has taken responsibility for.</summary>
    public IReadOnlyCollection<Received> Acknowledged => _acknowledged;

    public sealed record Received(string ContentType, string? Authorization, string Body, string Token, JsonWebToken Jwt);

    public static async Task<SignalReceiver> StartAsync()
    {
        SignalReceiver? receiver = null;
        var (app, url) = await LoopbackServer.StartAsync(app => app.MapPost("/signals", (HttpContext http) => receiver!.HandleAsync(http)));
        receiver = new SignalReceiver(app, url);
        return receiver;
    }

    private async Task HandleAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        var contentType = http.Request.ContentType ?? "";
        var token = contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal)
            ? QueryHelpers.ParseQuery(body)["logout_token"].ToString()
            : body;
        var received = new Received(contentType, http.Request.Headers.Authorization.FirstOrDefault(), body, token, new JsonWebToken(token));
        _received.Enqueue(received);
        _arrived.Release();
        if (Hang is { } hang)
        {
            await hang.Task.WaitAsync(http.RequestAborted);
        }

        var status = Answer(received);
        if (status is >= 200 and < 300)
        {
            _acknowledged.Enqueue(received);
        }

        http.Response.StatusCode = status;
        if (status == StatusCodes.Status400BadRequest)
        {
            await http.Response.WriteAsJsonAsync(new { err = "invalid_request", description = "refused by the test" });
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> requests have arrived.</summary>
    public async Task<IReadOnlyCollection<Received>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (_received.Count < count)
        {
            await _arrived.WaitAsync(cancel.Token);
        }

        return _received;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests have been acknowledged.</summary>
    public async Task<IReadOnlyCollection<Received>> WaitForAcknowledgedAsync(int count, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (_acknowledged.Count < count)
        {
            await Task.Delay(20, cancel.Token);
        }

        return _acknowledged;
    }

    /// <summary>
    /// Validates a received token with Tessera's keys against the issuer its discovery document names, as a strict
    /// receiver does; null when the signature or issuer is wrong.
    /// </summary>
    public static async Task<JsonWebToken?> VerifyAsync(TesseraTestServer server, Received received, string audience, string type)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(received.Token, new TokenValidationParameters
        {
            ValidIssuer = await server.DiscoveredIssuerAsync(),
            ValidAudience = audience,
            IssuerSigningKeys = server.Keys.VerificationKeys(),
            ValidTypes = [type],
            ValidAlgorithms = ["ES256", "RS256"],
            RequireExpirationTime = false,
            ValidateLifetime = false,
        });
        return result.IsValid ? (JsonWebToken)result.SecurityToken : null;
    }

    public async ValueTask DisposeAsync()
    {
        Hang?.TrySetCanceled();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
