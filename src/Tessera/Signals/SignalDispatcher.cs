using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Protocol;
using Tessera.Storage;
using Tessera.Telemetry;

namespace Tessera.Signals;

/// <summary>
/// Sends what the outbox holds for push destinations: logout tokens to clients, SETs to push receivers. Each destination
/// gets its signals one at a time in the order they happened; a failure holds that destination back (with exponential
/// backoff) without holding up the others. A delivery is claimed with a lease before it is sent and marked the moment it
/// is acknowledged, so after a restart exactly the unacknowledged ones go out again, with the same <c>jti</c>.
/// </summary>
public sealed partial class SignalDispatcher(
    IServiceScopeFactory scopes,
    SignalWake wake,
    TesseraConfiguration configuration,
    ClientRegistry clients,
    SignalTokens tokens,
    IHttpClientFactory httpClients,
    AuditLog audit,
    TesseraTelemetry telemetry,
    SignalBacklog backlog,
    TimeProvider time,
    ILogger<SignalDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "Tessera.Signals";

    private const int BatchSize = 100;
    private const int ParallelDestinations = 8;
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await ReleaseLeasesOfThisNodeAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before the work, so a commit during it is not missed.
            var pulse = wake.Next;
            var busy = false;
            try
            {
                busy = await DispatchAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogDispatchFailed(exception);
            }

            if (!busy)
            {
                // Polling runs on the wall clock (signals written by other nodes and the CLI); the injected clock decides what is due.
                await Task.WhenAny(pulse, Task.Delay(configuration.Current.Signals.PollInterval, stoppingToken)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// On SQLite there is one node, so a lease in the database can only be left over from this node's previous run
    /// (stopped mid-delivery); those signals go out now instead of when the lease runs out.
    /// </summary>
    private async Task ReleaseLeasesOfThisNodeAsync(CancellationToken cancellationToken)
    {
        if (configuration.Current.Storage.Provider != StorageProvider.Sqlite)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        await db.SignalDeliveries.Where(d => d.CompletedAt == null && d.LeasedUntil != null)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeasedUntil, (DateTime?)null), cancellationToken);
    }

    /// <summary>
    /// One pass over the outbox: each destination with pending signals is served from its oldest, so a receiver that is
    /// down, however much waits for it, holds up no other. True when a destination may have more waiting.
    /// </summary>
    public async Task<bool> DispatchAsync(CancellationToken cancellationToken)
    {
        List<(string Channel, string Destination)> destinations;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
            await backlog.RefreshAsync(db, cancellationToken);
            destinations = (await db.SignalDeliveries.AsNoTracking()
                    .Where(d => d.CompletedAt == null && d.Channel != SignalChannels.Poll)
                    .Select(d => new { d.Channel, d.Destination })
                    .Distinct()
                    .ToListAsync(cancellationToken))
                .Select(d => (d.Channel, d.Destination))
                .ToList();
        }

        var more = 0;
        await Parallel.ForEachAsync(destinations, new ParallelOptions { MaxDegreeOfParallelism = ParallelDestinations, CancellationToken = cancellationToken }, async (destination, token) =>
        {
            if (await DeliverQueueAsync(destination.Channel, destination.Destination, token))
            {
                Interlocked.Increment(ref more);
            }
        });
        return more > 0;
    }

    /// <summary>Sends the destination's signals in order until one fails or the batch is done; true when the whole batch went.</summary>
    private async Task<bool> DeliverQueueAsync(string channel, string destination, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        var queue = await db.SignalDeliveries.AsNoTracking()
            .Where(d => d.CompletedAt == null && d.Channel == channel && d.Destination == destination)
            .OrderBy(d => d.Id)
            .Take(BatchSize)
            .Include(d => d.Event)
            .ToListAsync(cancellationToken);
        var sent = 0;
        foreach (var delivery in queue)
        {
            var now = time.GetUtcNow().UtcDateTime;
            if (delivery.NextAttemptAt > now || delivery.LeasedUntil > now)
            {
                break;
            }

            var timeout = configuration.Current.Signals.DeliveryTimeout;
            var leased = await db.SignalDeliveries
                .Where(d => d.Id == delivery.Id && d.CompletedAt == null && (d.LeasedUntil == null || d.LeasedUntil <= now))
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeasedUntil, now + timeout + LeaseMargin), cancellationToken);
            if (leased == 0)
            {
                break; // another node has it, or it was completed meanwhile
            }

            using var span = TesseraTelemetry.Start(TesseraTelemetry.Spans.SignalDelivery, ActivityKind.Producer);
            if (span is { IsAllDataRequested: true })
            {
                span.SetTag(TesseraTelemetry.Tags.Channel, delivery.Channel);
                span.SetTag(TesseraTelemetry.Tags.Destination, delivery.Destination); // a client or receiver id from configuration
                span.SetTag(TesseraTelemetry.Tags.Attempt, delivery.Attempts + 1);
            }

            DeliveryResult result;
            try
            {
                result = await SendAsync(delivery, timeout, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Stopping mid-request: unacknowledged, so it is sent again by whichever node runs next, without waiting out the lease.
                await db.SignalDeliveries.Where(d => d.Id == delivery.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeasedUntil, (DateTime?)null), CancellationToken.None);
                throw;
            }

            Describe(span, result);
            await RecordAsync(db, delivery, result, cancellationToken);
            if (result.Outcome == DeliveryOutcome.Retry)
            {
                break; // keep the order: nothing after it goes before it
            }

            sent++;
        }

        return sent == BatchSize;
    }

    private async Task<DeliveryResult> SendAsync(SignalDeliveryRecord delivery, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var signal = delivery.Event!;
        var options = configuration.Current;
        if (time.GetUtcNow().UtcDateTime - signal.OccurredAt > options.Signals.GiveUpAfter)
        {
            return new DeliveryResult(DeliveryOutcome.Abandoned, null, "not delivered within Signals.GiveUpAfter");
        }

        HttpRequestMessage request;
        if (delivery.Channel == SignalChannels.BackchannelLogout)
        {
            var client = clients.Find(delivery.Destination);
            if (client?.BackchannelLogoutUri is not { } uri)
            {
                return new DeliveryResult(DeliveryOutcome.Abandoned, null, "the client no longer has a BackchannelLogoutUri");
            }

            // Back-Channel Logout 1.0 §2.5: a form POST with the logout token.
            request = new HttpRequestMessage(HttpMethod.Post, uri)
            {
                Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("logout_token", tokens.LogoutToken(signal, client, delivery.TokenId))]),
            };
        }
        else
        {
            var receiver = options.Signals.Receivers.FirstOrDefault(r => r.Id == delivery.Destination && r.Delivery == SignalReceiverOptions.Push);
            if (receiver?.Endpoint is not { } endpoint)
            {
                return new DeliveryResult(DeliveryOutcome.Abandoned, null, "the receiver is no longer configured for push delivery");
            }

            // RFC 8935 §2: the SET is the body, typed application/secevent+jwt.
            request = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new StringContent(tokens.SecurityEventToken(signal, receiver, delivery.TokenId)),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/secevent+jwt");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (!string.IsNullOrEmpty(receiver.Authorization))
            {
                request.Headers.TryAddWithoutValidation("Authorization", receiver.Authorization);
            }
        }

        using (request)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    return new DeliveryResult(DeliveryOutcome.Delivered, status, null);
                }

                var body = await ReadErrorAsync(response, deadline.Token);

                // RFC 8935 §2.3 and Back-Channel Logout §2.8: 400 says this token is refused, and sending it again changes nothing.
                return new DeliveryResult(response.StatusCode == HttpStatusCode.BadRequest ? DeliveryOutcome.Refused : DeliveryOutcome.Retry, status, body);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new DeliveryResult(DeliveryOutcome.Retry, null, "timed out");
            }
            catch (HttpRequestException exception)
            {
                return new DeliveryResult(DeliveryOutcome.Retry, null, exception.HttpRequestError.ToString());
            }
        }
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = $"HTTP {(int)response.StatusCode}";
        try
        {
            var buffer = new char[240];
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            var read = await reader.ReadBlockAsync(buffer, cancellationToken);
            return read == 0 ? text : text + ": " + new string(buffer, 0, read).ReplaceLineEndings(" ");
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
            return text;
        }
    }

    private async Task RecordAsync(TesseraDbContext db, SignalDeliveryRecord delivery, DeliveryResult result, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var attempts = delivery.Attempts + 1;
        var error = result.Error is { Length: > 300 } text ? text[..300] : result.Error;
        if (result.Outcome == DeliveryOutcome.Retry)
        {
            var retryAt = now + Backoff(attempts, configuration.Current.Signals.MaxRetryDelay);
            await db.SignalDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.NextAttemptAt, retryAt)
                .SetProperty(d => d.LeasedUntil, (DateTime?)null)
                .SetProperty(d => d.LastError, error), CancellationToken.None);
            LogDeliveryFailed(delivery.Channel, delivery.Destination, attempts, result.Error);
        }
        else
        {
            var outcome = OutcomeName(result.Outcome);
            await db.SignalDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.CompletedAt, now)
                .SetProperty(d => d.Outcome, outcome)
                .SetProperty(d => d.LeasedUntil, (DateTime?)null)
                .SetProperty(d => d.LastError, error), CancellationToken.None);
        }

        telemetry.SignalDelivery(delivery.Channel, OutcomeName(result.Outcome),
            result.Outcome == DeliveryOutcome.Retry ? null : time.GetUtcNow().UtcDateTime - delivery.Event!.OccurredAt);

        // Every final outcome is audited, and the first failure of each (not every retry of a receiver that is down).
        if (result.Outcome != DeliveryOutcome.Retry || attempts == 1)
        {
            audit.Record(Audit(delivery, result, attempts));
        }
    }

    private static string OutcomeName(DeliveryOutcome outcome) => outcome switch
    {
        DeliveryOutcome.Delivered => DeliveryOutcomes.Delivered,
        DeliveryOutcome.Refused => DeliveryOutcomes.Refused,
        DeliveryOutcome.Abandoned => DeliveryOutcomes.Abandoned,
        _ => "retry",
    };

    private static void Describe(Activity? span, DeliveryResult result)
    {
        if (span is null)
        {
            return;
        }

        if (result.Status is { } status)
        {
            span.SetTag(TesseraTelemetry.Tags.Status, status);
        }

        if (result.Outcome == DeliveryOutcome.Delivered)
        {
            TesseraTelemetry.Succeeded(span);
        }
        else
        {
            TesseraTelemetry.Failed(span, OutcomeName(result.Outcome));
        }
    }

    private static AuditEvent Audit(SignalDeliveryRecord delivery, DeliveryResult result, int attempts)
    {
        var (name, outcome) = result.Outcome switch
        {
            DeliveryOutcome.Delivered => (AuditEvents.SignalDelivered, AuditEvent.Success),
            DeliveryOutcome.Refused => (AuditEvents.SignalRefused, AuditEvent.Failure),
            DeliveryOutcome.Abandoned => (AuditEvents.SignalAbandoned, AuditEvent.Failure),
            _ => (AuditEvents.SignalDeliveryFailed, AuditEvent.Failure),
        };
        return SignalAudit.Delivery(delivery, name, outcome, result.Error,
            new("attempts", attempts.ToString(CultureInfo.InvariantCulture)),
            new("status", result.Status?.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>1 s, 2 s, 4 s, … up to <paramref name="max"/>, with up to a fifth less at random so retries of many nodes spread out.</summary>
    public static TimeSpan Backoff(int attempts, TimeSpan max)
    {
        var seconds = Math.Min(max.TotalSeconds, Math.Pow(2, Math.Min(attempts - 1, 30)));
        return TimeSpan.FromSeconds(seconds * (1 - (Random.Shared.NextDouble() * 0.2)));
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning, Message = "Dispatching signals failed")]
    private partial void LogDispatchFailed(Exception exception);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Information, Message = "Signal to {Channel} {Destination} failed (attempt {Attempts}): {Error}; it will be retried")]
    private partial void LogDeliveryFailed(string channel, string destination, int attempts, string? error);

    private enum DeliveryOutcome
    {
        Delivered,
        Refused,
        Abandoned,
        Retry,
    }

    private sealed record DeliveryResult(DeliveryOutcome Outcome, int? Status, string? Error);
}

/// <summary>What became of a delivery (<see cref="SignalDeliveryRecord.Outcome"/>).</summary>
public static class DeliveryOutcomes
{
    public const string Delivered = "delivered";
    public const string Refused = "refused";
    public const string Abandoned = "abandoned";
}
