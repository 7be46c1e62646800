using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using Tessera.Hosting;

namespace Tessera.Protocol;

/// <summary>
/// Makes the registered applications match the configuration: adds, updates, and removes (with their tokens)
/// clients that are no longer configured. Runs at start and after every accepted configuration reload, on every node;
/// nodes take turns (an advisory lock on PostgreSQL, SQLite's write lock), so two never register the same client.
/// </summary>
public sealed partial class ClientSynchronizer(IServiceScopeFactory scopes, ApplicationCache cache, VerifiedSecretCache secrets, ILogger<ClientSynchronizer> logger)
{
    public async Task SynchronizeAsync(TesseraModel options, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SynchronizeOnceAsync(options, cancellationToken);
                return;
            }
            catch (Exception exception) when (attempt < 5 && exception is DbUpdateException or OpenIddictExceptions.ConcurrencyException)
            {
                // Another node synchronized at the same moment (nodes starting together); read again and retry, a
                // little later each time so that the nodes stop colliding. OpenIddict wraps EF Core's concurrency error.
                LogRetry(exception, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(50, 150) * attempt), cancellationToken);
            }
            finally
            {
                cache.Clear();
                secrets.Clear();
            }
        }
    }

    private async Task SynchronizeOnceAsync(TesseraModel options, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Storage.TesseraDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({AdvisoryLock})", cancellationToken);
        }

        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var existing = new Dictionary<string, OpenIddictEntityFrameworkCoreApplication>(StringComparer.Ordinal);
        await foreach (var application in manager.ListAsync(count: null, offset: null, cancellationToken))
        {
            var typed = (OpenIddictEntityFrameworkCoreApplication)application;
            existing[typed.ClientId ?? ""] = typed;
        }

        foreach (var client in options.Clients)
        {
            var wallet = client.Scopes.Any(s => options.Declared.Credentials.Any(c => c.EffectiveScope == s));
            var descriptor = ClientDescriptorFactory.Create(client, wallet ? options.Issuer.Name : null);
            if (existing.Remove(client.ClientId, out var application))
            {
                if (descriptor.ClientSecret is not null && await manager.ValidateClientSecretAsync(application, descriptor.ClientSecret, cancellationToken))
                {
                    descriptor.ClientSecret = application.ClientSecret; // unchanged: keep the stored hash
                }

                await manager.UpdateAsync(application, descriptor, cancellationToken);
                continue;
            }

            await manager.CreateAsync(descriptor, cancellationToken);
            LogAdded(client.ClientId);
        }

        foreach (var (clientId, stale) in existing)
        {
            await manager.DeleteAsync(stale, cancellationToken);
            LogRemoved(clientId);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private const long AdvisoryLock = 7373211; // the migration lock is 7373210

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Registered client {ClientId}")]
    private partial void LogAdded(string clientId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Removed client {ClientId}, which is no longer configured, with its tokens")]
    private partial void LogRemoved(string clientId);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Client synchronization collided with another writer (attempt {Attempt}); retrying")]
    private partial void LogRetry(Exception exception, int attempt);
}
