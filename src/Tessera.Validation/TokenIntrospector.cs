using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Tessera.Validation;

/// <summary>
/// Asks Tessera whether a token is still active (RFC 7662): the endpoint from the discovery document's
/// <c>introspection_endpoint</c>, the API authenticated with client_secret_basic.
/// </summary>
internal sealed partial class TokenIntrospector(TesseraBackchannel backchannel, SigningKeySource metadata, IOptions<TesseraValidationOptions> options,
    TesseraValidationMetrics metrics, ILogger<TokenIntrospector> logger)
{
    private readonly TesseraValidationOptions _options = options.Value;

    /// <summary>Never throws; the caller's cancellation is not passed on, as concurrent requests share the call.</summary>
    public async Task<IntrospectionOutcome> IntrospectAsync(string token)
    {
        var outcome = await AskAsync(token);
        metrics.Introspected(outcome);
        return outcome;
    }

    private async Task<IntrospectionOutcome> AskAsync(string token)
    {
        var configuration = await metadata.CurrentAsync(CancellationToken.None);
        if (!Uri.TryCreate(configuration?.IntrospectionEndpoint, UriKind.Absolute, out var endpoint))
        {
            IntrospectionFailed(logger, "no introspection_endpoint in Tessera's discovery document");
            return IntrospectionOutcome.Unavailable;
        }

        // The client secret travels with the request: never over plain http beyond this machine.
        if (endpoint.Scheme != Uri.UriSchemeHttps && !endpoint.IsLoopback)
        {
            IntrospectionFailed(logger, "the introspection endpoint is not https");
            return IntrospectionOutcome.Unavailable;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            // RFC 7662 §2.1
            Content = new FormUrlEncodedContent([new("token", token), new("token_type_hint", "access_token")]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicCredentials(_options.ClientId!, _options.ClientSecret!));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        try
        {
            using var response = await backchannel.Http.SendAsync(request, CancellationToken.None);
            if (!response.IsSuccessStatusCode)
            {
                IntrospectionFailed(logger, $"HTTP {(int)response.StatusCode}");
                return IntrospectionOutcome.Unavailable;
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(CancellationToken.None));
            // RFC 7662 §2.2: active is the one required member.
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("active", out var active)
                ? active.ValueKind switch
                {
                    JsonValueKind.True => IntrospectionOutcome.Active,
                    JsonValueKind.False => IntrospectionOutcome.Inactive,
                    _ => Malformed(),
                }
                : Malformed();
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            IntrospectionFailed(logger, exception.GetType().Name);
            return IntrospectionOutcome.Unavailable;
        }
    }

    private IntrospectionOutcome Malformed()
    {
        IntrospectionFailed(logger, "the response has no boolean 'active'");
        return IntrospectionOutcome.Unavailable;
    }

    /// <summary>RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.</summary>
    private static string BasicCredentials(string clientId, string clientSecret) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(clientSecret)));

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Tessera's introspection endpoint gave no answer: {Reason}")]
    private static partial void IntrospectionFailed(ILogger logger, string reason);
}
