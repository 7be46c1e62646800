using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tessera.Audit;
using Tessera.Hosting;

namespace Tessera.Signals;

/// <summary>
/// The receivers' side of Tessera as a SET transmitter: the poll endpoint (RFC 8936) at <c>/signals/poll/{receiver}</c>
/// and the Shared Signals Framework's transmitter metadata at <c>/.well-known/ssf-configuration</c>.
/// </summary>
public static class SignalEndpoints
{
    private const int DefaultMaxEvents = 100;
    private const int MaxEventsLimit = 1000;

    public static IEndpointRouteBuilder MapSignals(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/signals/poll/{receiver}", PollAsync);
        endpoints.MapGet("/.well-known/ssf-configuration", (TesseraIssuer issuer) =>
        {
            return Results.Json(new Dictionary<string, object>
            {
                ["spec_version"] = "1_0",
                ["issuer"] = issuer.Name,
                ["jwks_uri"] = issuer.Url("/.well-known/jwks.json"),
                ["delivery_methods_supported"] = new[] { "urn:ietf:rfc:8935", "urn:ietf:rfc:8936" },
            });
        });
        return endpoints;
    }

    private static async Task<IResult> PollAsync(HttpContext http, string receiver, TesseraConfiguration configuration, RequestLimitOptions limits, SignalPolling polling, SignalWake wake, AuditLog audit)
    {
        var options = configuration.Current.Signals;
        var target = options.Receivers.FirstOrDefault(r => r.Id == receiver && r.Delivery == SignalReceiverOptions.Poll);
        if (target is null || !Matches(http.Request.Headers.Authorization.ToString(), target.Authorization))
        {
            audit.Record(new AuditEvent(AuditEvents.SignalPollRefused, AuditEvent.Failure)
            {
                IpAddress = http.Connection.RemoteIpAddress?.ToString(),
                Reason = target is null ? "no poll receiver by that id" : "wrong or missing Authorization header",
                Detail = new Dictionary<string, string?> { ["receiver"] = receiver.Length > 100 ? receiver[..100] : receiver },
            });
            return Error(StatusCodes.Status401Unauthorized, "authentication_failed", "The receiver is unknown or the Authorization header is wrong.");
        }

        var limit = limits.MaxBodyBytes.SignalPoll;
        if (await BoundedRequestBody.ReadAsync(http.Request, limit) is not { } body)
        {
            audit.Record(new AuditEvent(AuditEvents.RequestRefused, AuditEvent.Failure)
            {
                IpAddress = http.Connection.RemoteIpAddress?.ToString(),
                Reason = $"body_too_large: The request body is larger than {limit} bytes.",
                Detail = new Dictionary<string, string?> { ["endpoint"] = "signal_poll", ["receiver"] = target.Id },
            });
            return Error(StatusCodes.Status413PayloadTooLarge, "invalid_request", $"The request body is larger than {limit} bytes.");
        }

        if (!PollRequest.TryRead(body, out var request, out var problem))
        {
            return Error(StatusCodes.Status400BadRequest, "invalid_request", problem);
        }

        await polling.AcknowledgeAsync(target, request.Acknowledged, request.Errors, http.RequestAborted);
        if (request.MaxEvents == 0)
        {
            return Results.Json(new { sets = new Dictionary<string, string>(), moreAvailable = false });
        }

        // RFC 8936 §2.4: without returnImmediately the request waits for SETs, up to the long-poll timeout.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(options.LongPollTimeout);
        while (true)
        {
            var pulse = wake.Next;
            var (sets, more) = await polling.PendingAsync(target, request.MaxEvents, http.RequestAborted);
            if (sets.Count > 0 || request.ReturnImmediately || deadline.IsCancellationRequested)
            {
                return Results.Json(new { sets, moreAvailable = more });
            }

            try
            {
                await pulse.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
            {
                // the long poll ran out: one last look, then answer
            }
        }
    }

    private static bool Matches(string presented, string? expected) =>
        !string.IsNullOrEmpty(presented) && expected is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    private static IResult Error(int status, string error, string description) =>
        Results.Json(new { err = error, description }, statusCode: status);

    /// <summary>RFC 8936 §2.4 request members.</summary>
    private sealed record PollRequest(IReadOnlyList<string> Acknowledged, IReadOnlyDictionary<string, string> Errors, int MaxEvents, bool ReturnImmediately)
    {
        public static bool TryRead(byte[] body, out PollRequest request, out string problem)
        {
            request = new PollRequest([], new Dictionary<string, string>(), DefaultMaxEvents, false);
            problem = "";
            if (body.Length == 0)
            {
                return true;
            }

            try
            {
                using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    problem = "The request must be a JSON object.";
                    return false;
                }

                var acknowledged = new List<string>();
                var errors = new Dictionary<string, string>(StringComparer.Ordinal);
                var maxEvents = DefaultMaxEvents;
                var returnImmediately = false;
                foreach (var member in document.RootElement.EnumerateObject())
                {
                    switch (member.Name)
                    {
                        case "ack" when member.Value.ValueKind == JsonValueKind.Array && member.Value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String):
                            acknowledged.AddRange(member.Value.EnumerateArray().Select(v => v.GetString()!));
                            break;
                        case "setErrs" when member.Value.ValueKind == JsonValueKind.Object:
                            foreach (var error in member.Value.EnumerateObject())
                            {
                                if (error.Value.ValueKind != JsonValueKind.Object || !error.Value.TryGetProperty("err", out var err) || err.ValueKind != JsonValueKind.String)
                                {
                                    problem = $"setErrs.{error.Name} must be an object with a string 'err'.";
                                    return false;
                                }

                                var description = error.Value.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? ": " + d.GetString() : "";
                                errors[error.Name] = err.GetString() + description;
                            }

                            break;
                        case "maxEvents" when member.Value.ValueKind == JsonValueKind.Number && member.Value.TryGetInt32(out var max) && max is >= 0 and <= MaxEventsLimit:
                            maxEvents = max;
                            break;
                        case "returnImmediately" when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                            returnImmediately = member.Value.GetBoolean();
                            break;
                        case "ack" or "setErrs" or "maxEvents" or "returnImmediately":
                            problem = $"'{member.Name}' has the wrong type or value (maxEvents: 0 to {MaxEventsLimit}).";
                            return false;
                        default:
                            break; // RFC 8936 §2.4: members a transmitter does not understand are ignored
                    }
                }

                request = new PollRequest(acknowledged, errors, maxEvents, returnImmediately);
                return true;
            }
            catch (JsonException)
            {
                problem = "The request body is not valid JSON.";
                return false;
            }
        }
    }
}
