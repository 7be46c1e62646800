using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using Tessera.Hosting;
using Tessera.Signals;

namespace Tessera.Storage;

/// <summary>Deletes what can no longer matter: expired pending sign-ins, deny-list entries, old tokens and authorizations, audit rows past their retention.</summary>
public sealed partial class ExpiredRecordSweeper(IServiceScopeFactory scopes, TesseraConfiguration configuration, TimeProvider time, ILogger<ExpiredRecordSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    /// <summary>How long a signal and its deliveries stay in the outbox once every delivery is done, for operators to look at.</summary>
    public static readonly TimeSpan SignalRetention = TimeSpan.FromDays(7);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Polling runs on the wall clock; the injected clock decides what is due.
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogSweepFailed(exception);
            }
        }
    }

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        var now = time.GetUtcNow();
        var nowUtc = now.UtcDateTime;
        await db.PendingLogins.Where(p => p.ExpiresAt < nowUtc).ExecuteDeleteAsync(cancellationToken);
        await db.RevokedTokens.Where(r => r.ExpiresAt < nowUtc).ExecuteDeleteAsync(cancellationToken);
        await db.UsedClientAssertions.Where(u => u.ExpiresAt < nowUtc).ExecuteDeleteAsync(cancellationToken);
        await db.UsedSamlAssertions.Where(u => u.ExpiresAt < nowUtc).ExecuteDeleteAsync(cancellationToken);
        await db.CredentialNonces.Where(n => n.ExpiresAt < nowUtc).ExecuteDeleteAsync(cancellationToken);
        await db.PresentationRequests.Where(r => r.ExpiresAt < nowUtc).ExecuteDeleteAsync(cancellationToken);
        await db.CredentialOffers.Where(o => o.ExpiresAt < nowUtc).ExecuteDeleteAsync(cancellationToken);

        // Poll receivers that never came for their signals: given up like pushes are (pushes are given up as they are tried).
        var givenUp = nowUtc - configuration.Current.Signals.GiveUpAfter;
        await db.SignalDeliveries.Where(d => d.CompletedAt == null && d.Channel == SignalChannels.Poll && d.Event!.OccurredAt < givenUp)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.CompletedAt, nowUtc).SetProperty(d => d.Outcome, DeliveryOutcomes.Abandoned), cancellationToken);
        var retained = nowUtc - SignalRetention;
        await db.SignalDeliveries.Where(d => d.CompletedAt < retained).ExecuteDeleteAsync(cancellationToken);
        await db.SignalEvents.Where(e => e.OccurredAt < retained && !db.SignalDeliveries.Any(d => d.EventId == e.Id)).ExecuteDeleteAsync(cancellationToken);

        // OpenIddict removes tokens and authorizations that are invalid and older than the threshold.
        var threshold = now - TimeSpan.FromDays(1);
        await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, cancellationToken);
        await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, cancellationToken);

        // Audit rows past Audit.Retention, only up to a signed checkpoint (AuditRetention says why).
        await scope.ServiceProvider.GetRequiredService<Audit.AuditRetention>().PruneAsync(db, cancellationToken);
        await PlannerStatistics.RefreshAsync(db, cancellationToken);
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Sweeping expired records failed")]
    private partial void LogSweepFailed(Exception exception);
}
