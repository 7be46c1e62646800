using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Tessera.Validation;

/// <summary>
/// The receiver Tessera pushes Security Event Tokens to (RFC 8935): <c>POST</c>, <c>application/secevent+jwt</c>,
/// one SET as the body. Applied: <c>202 Accepted</c>, empty body (§2.2). Refused: <c>400</c> with
/// <c>{"err", "description"}</c> (§2.3), or <c>401</c> <c>authentication_failed</c> when the configured
/// <c>Authorization</c> value is missing or wrong; nothing is applied. When Tessera's own keys cannot be fetched the
/// answer is <c>503</c>, which Tessera retries.
/// </summary>
internal sealed partial class SecurityEventEndpoint(SecurityEventValidator validator, SecurityEventReplayGuard replays, SecurityEventProcessor processor,
    IOptions<TesseraValidationOptions> options, TesseraValidationMetrics metrics, ILogger<SecurityEventEndpoint> logger)
{
    private const string MediaType = "application/secevent+jwt";

    private readonly TesseraSignalOptions _options = options.Value.Signals;
    private readonly byte[]? _expectedAuthorization = options.Value.Signals.Authorization is { } value ? SHA256.HashData(Encoding.UTF8.GetBytes(value)) : null;

    public async Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "POST";
            return;
        }

        var (status, error, description) = await ReceiveAsync(context);
        metrics.SignalReceived(error);
        if (error is null)
        {
            context.Response.StatusCode = status;
            return;
        }

        SignalRefused(logger, status, error, description!);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["err"] = error, ["description"] = description! }), context.RequestAborted);
    }

    private async Task<(int Status, string? Error, string? Description)> ReceiveAsync(HttpContext context)
    {
        var request = context.Request;
        if (_expectedAuthorization is not null && !Authorized(request.Headers.Authorization.ToString()))
        {
            return (StatusCodes.Status401Unauthorized, SecurityEventErrors.AuthenticationFailed, "The Authorization header is missing or wrong.");
        }

        // RFC 8935 §2: the body is one SET, media type application/secevent+jwt.
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || !contentType.MediaType.Equals(MediaType, StringComparison.OrdinalIgnoreCase))
        {
            return Refused(SecurityEventErrors.InvalidRequest, $"The request's content type must be {MediaType}.");
        }

        if (request.ContentLength > _options.MaxBodyBytes)
        {
            return Refused(SecurityEventErrors.InvalidRequest, "The request body is larger than allowed.");
        }

        var body = await ReadBodyAsync(request, context.RequestAborted);
        if (body is null)
        {
            return Refused(SecurityEventErrors.InvalidRequest, "The request body is larger than allowed.");
        }

        var result = await validator.ValidateAsync(body.Trim(), context.RequestAborted);
        if (result.Transient)
        {
            return (StatusCodes.Status503ServiceUnavailable, result.Error, "Tessera's signing keys are not available to this receiver; try again later.");
        }

        if (result.Event is not { } securityEvent)
        {
            return Refused(result.Error!, result.Description!);
        }

        // RFC 8417 §2.2: jti identifies the SET; a second delivery of it is a replay.
        if (!replays.TryRecord(securityEvent.Jti))
        {
            return Refused(SecurityEventErrors.InvalidRequest, "This SET (jti) was already received.");
        }

        processor.Apply(securityEvent);
        return (StatusCodes.Status202Accepted, null, null);
    }

    /// <summary>Compares hashes in constant time, so neither the value nor its length leaks through timing.</summary>
    private bool Authorized(string presented) =>
        presented.Length > 0 && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _expectedAuthorization);

    /// <summary>The body as text, or null when it exceeds the limit (read no further than one byte past it).</summary>
    private async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new byte[_options.MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        return length > _options.MaxBodyBytes ? null : Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static (int, string?, string?) Refused(string error, string description) => (StatusCodes.Status400BadRequest, error, description);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Security Event Token refused with {Status} {Error}: {Description}")]
    private static partial void SignalRefused(ILogger logger, int status, string error, string description);
}
