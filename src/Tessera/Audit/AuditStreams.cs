using System.Data.Common;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// Streams the audit log to each of <c>Audit.Streams</c>: rows in id order, a batch at a time, posted as
/// newline-delimited JSON. The log itself is the outbox: a stream's row in <c>audit_streams</c> says which rows its
/// destination acknowledged and which batch is being sent. A batch is fixed before it is first sent and resent
/// unchanged, with the same <c>Idempotency-Key</c>, until a 2xx acknowledges it, so a destination that keeps the keys it
/// has seen takes every row exactly once, even when an acknowledgement is lost or a node dies mid-send. One node at
/// a time sends a stream (a lease in the stream's row); another takes over when the lease runs out.
/// </summary>
/// <remarks>
/// Rows become visible in id order: the audit writer appends under one lock across nodes and commits before letting
/// go of it, so a stream never passes a row that is committed later.
/// </remarks>
public sealed partial class AuditStreams(
    IServiceScopeFactory scopes,
    TesseraConfiguration configuration,
    IHttpClientFactory httpClients,
    TimeProvider time,
    ILogger<AuditStreams> logger) : BackgroundService
{
    public const string HttpClientName = "Tessera.AuditStreams";
    public const string ContentType = "application/x-ndjson";

    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinLease = TimeSpan.FromSeconds(30);

    private readonly string _node = $"{(Environment.MachineName.Length > 40 ? Environment.MachineName[..40] : Environment.MachineName)}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly HashSet<string> _failing = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var stream in configuration.Current.Audit.Streams)
            {
                try
                {
                    while (await SendNextAsync(stream, stoppingToken))
                    {
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is DbException or DbUpdateException or InvalidOperationException or TimeoutException)
                {
                    // The database is away: the stream's row still says where it stands; it goes on from there.
                    LogUnavailable(exception, stream.Id);
                }
            }

            try
            {
                await Task.Delay(Idle, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Sends the stream's next batch if this node holds its lease and it is due; true when one was acknowledged.</summary>
    public async Task<bool> SendNextAsync(AuditStreamOptions stream, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        if (await ClaimAsync(db, stream, now, cancellationToken) is not { } cursor)
        {
            return false;
        }

        var after = cursor.DeliveredUpTo;
        var batch = db.AuditEvents.AsNoTracking().Where(a => a.Id > after).OrderBy(a => a.Id);
        List<AuditRecord> rows;
        if (cursor.SendingUpTo is { } sending)
        {
            rows = await batch.Where(a => a.Id <= sending).ToListAsync(cancellationToken);
        }
        else
        {
            rows = await batch.Take(stream.BatchSize).ToListAsync(cancellationToken);
            if (rows.Count == 0 || !await FixBatchAsync(db, stream, cursor, rows[^1].Id, cancellationToken))
            {
                return false;
            }
        }

        var last = cursor.SendingUpTo ?? rows[^1].Id;
        var chosen = rows.Where(r => Streamed(stream, r.Event)).ToList();
        var error = chosen.Count == 0 ? null : await PostAsync(stream, cursor.DeliveredUpTo, last, chosen, cancellationToken);
        now = time.GetUtcNow().UtcDateTime;
        var mine = db.AuditStreams.Where(s => s.StreamId == stream.Id && s.LeaseOwner == _node && s.SendingUpTo == last);
        if (error is null)
        {
            await mine.ExecuteUpdateAsync(s => s
                .SetProperty(c => c.DeliveredUpTo, last)
                .SetProperty(c => c.SendingUpTo, (long?)null)
                .SetProperty(c => c.Attempts, 0)
                .SetProperty(c => c.NextAttemptAt, now)
                .SetProperty(c => c.LastDeliveredAt, now)
                .SetProperty(c => c.LastError, (string?)null), cancellationToken);
            if (_failing.Remove(stream.Id))
            {
                LogRecovered(stream.Id, cursor.Attempts);
            }

            return true;
        }

        var attempts = cursor.Attempts + 1;
        var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, Math.Min(attempts - 1, 20)), stream.MaxRetryDelay.TotalSeconds));
        var next = now + delay;
        var reason = error.Length > 500 ? error[..500] : error;
        await mine.ExecuteUpdateAsync(s => s
            .SetProperty(c => c.Attempts, attempts)
            .SetProperty(c => c.NextAttemptAt, next)
            .SetProperty(c => c.LastError, reason), cancellationToken);
        _failing.Add(stream.Id);
        LogSendFailed(stream.Id, cursor.DeliveredUpTo + 1, last, attempts, error, delay);
        return false;
    }

    /// <summary>Whether rows of <paramref name="auditEvent"/> go to <paramref name="stream"/>: every event, or those its <c>Events</c> name.</summary>
    public static bool Streamed(AuditStreamOptions stream, string auditEvent) =>
        stream.Events.Count == 0 || stream.Events.Any(e => e.EndsWith(".*", StringComparison.Ordinal)
            ? auditEvent.StartsWith(e[..^1], StringComparison.Ordinal)
            : string.Equals(e, auditEvent, StringComparison.Ordinal));

    /// <summary>The lowest row every configured stream has been acknowledged up to: retention removes nothing after it.</summary>
    public static async Task<long?> DeliveredByAllAsync(TesseraDbContext db, IReadOnlyCollection<AuditStreamOptions> streams, CancellationToken cancellationToken)
    {
        if (streams.Count == 0)
        {
            return null;
        }

        var ids = streams.Select(s => s.Id).ToList();
        var cursors = await db.AuditStreams.AsNoTracking().Where(s => ids.Contains(s.StreamId)).Select(s => s.DeliveredUpTo).ToListAsync(cancellationToken);

        // A stream not yet started has delivered nothing.
        return cursors.Count < ids.Count ? 0 : cursors.Min();
    }

    /// <summary>Takes (or keeps) the stream's lease when its next attempt is due; its row as it stands, or null.</summary>
    private async Task<AuditStreamRecord?> ClaimAsync(TesseraDbContext db, AuditStreamOptions stream, DateTime now, CancellationToken cancellationToken)
    {
        var until = now + (stream.Timeout * 2 > MinLease ? stream.Timeout * 2 : MinLease);
        var claimed = await db.AuditStreams
            .Where(s => s.StreamId == stream.Id && s.NextAttemptAt <= now && (s.LeaseOwner == null || s.LeaseOwner == _node || s.LeaseUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.LeaseOwner, _node).SetProperty(c => c.LeaseUntil, until), cancellationToken);
        if (claimed == 1)
        {
            return await db.AuditStreams.AsNoTracking().SingleAsync(s => s.StreamId == stream.Id, cancellationToken);
        }

        if (!await db.AuditStreams.AnyAsync(s => s.StreamId == stream.Id, cancellationToken))
        {
            // The stream's first start: from the first row kept, or from the newest row now.
            var from = stream.From == AuditStreamOptions.FromNow
                ? await db.AuditEvents.MaxAsync(a => (long?)a.Id, cancellationToken) ?? 0
                : 0;
            db.AuditStreams.Add(new AuditStreamRecord { StreamId = stream.Id, DeliveredUpTo = from, NextAttemptAt = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                LogStarted(stream.Id, from);
            }
            catch (DbUpdateException)
            {
                // Another node started it a moment ago.
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }

        return null;
    }

    /// <summary>Fixes the next batch (its last row) before anything is sent, so every retry sends the same rows.</summary>
    private async Task<bool> FixBatchAsync(TesseraDbContext db, AuditStreamOptions stream, AuditStreamRecord cursor, long last, CancellationToken cancellationToken) =>
        await db.AuditStreams
            .Where(s => s.StreamId == stream.Id && s.LeaseOwner == _node && s.SendingUpTo == null && s.DeliveredUpTo == cursor.DeliveredUpTo)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.SendingUpTo, (long?)last), cancellationToken) == 1;

    /// <summary>Posts one batch; null when the destination acknowledged it, otherwise what went wrong.</summary>
    private async Task<string?> PostAsync(AuditStreamOptions stream, long after, long upTo, List<AuditRecord> rows, CancellationToken cancellationToken)
    {
        var map = AuditExport.Mapping(stream.Format);
        var body = new StringBuilder();
        foreach (var row in rows)
        {
            body.Append(AuditExport.Line(map(row))).Append('\n');
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, stream.Endpoint)
        {
            Content = new StringContent(body.ToString(), Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(ContentType) { CharSet = "utf-8" };

        // The same batch always carries the same key (a structured-field string, as the Idempotency-Key draft asks).
        request.Headers.TryAddWithoutValidation("Idempotency-Key", $"\"{stream.Id}:{after + 1}-{upTo}\"");
        if (!string.IsNullOrEmpty(stream.Authorization))
        {
            request.Headers.TryAddWithoutValidation("Authorization", stream.Authorization);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(stream.Timeout);
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {stream.Timeout}";
        }
        catch (HttpRequestException exception)
        {
            return exception.Message;
        }
    }

    [LoggerMessage(EventId = 9031, Level = LogLevel.Information, Message = "Audit stream {Stream} starts after row {From}")]
    private partial void LogStarted(string stream, long from);

    [LoggerMessage(EventId = 9032, Level = LogLevel.Warning, Message = "Audit stream {Stream}: rows {First} to {Last} were not acknowledged (attempt {Attempts}): {Error}; sent again in {Delay}")]
    private partial void LogSendFailed(string stream, long first, long last, int attempts, string error, TimeSpan delay);

    [LoggerMessage(EventId = 9033, Level = LogLevel.Information, Message = "Audit stream {Stream} is delivering again after {Attempts} failed attempts")]
    private partial void LogRecovered(string stream, int attempts);

    [LoggerMessage(EventId = 9034, Level = LogLevel.Warning, Message = "Audit stream {Stream} cannot reach the database; it goes on from where its row says once it can")]
    private partial void LogUnavailable(Exception exception, string stream);
}
