using System.Data;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tessera.Storage;

namespace Tessera.Hosting;

/// <summary>Reads the managed configuration (the resources the Admin API and the portal manage) and its revision.</summary>
public sealed partial class ManagedConfigurationStore(IServiceScopeFactory scopes, ManagedResourceCodec codec, ILogger<ManagedConfigurationStore> logger)
{
    /// <summary>The revision in the database: cheap enough to ask every second.</summary>
    public async Task<long> RevisionAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        return await db.ConfigurationRevisions.AsNoTracking().Where(r => r.Id == 1).Select(r => r.Revision).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Every managed resource at one revision (read in one snapshot).</summary>
    public async Task<ManagedConfiguration> LoadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await LoadAsync(scope.ServiceProvider.GetRequiredService<TesseraDbContext>(), cancellationToken);
    }

    /// <summary>Every managed resource as <paramref name="db"/> sees it (inside its transaction, if it has one).</summary>
    public async Task<ManagedConfiguration> LoadAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        var ownTransaction = db.Database.CurrentTransaction is null && db.Database.IsNpgsql()
            ? await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken)
            : null;
        try
        {
            var revision = await db.ConfigurationRevisions.AsNoTracking().Where(r => r.Id == 1).Select(r => r.Revision).FirstOrDefaultAsync(cancellationToken);
            var records = await db.ManagedResources.AsNoTracking().OrderBy(r => r.CreatedAt).ThenBy(r => r.Kind).ThenBy(r => r.Id).ToListAsync(cancellationToken);
            var resources = new List<ManagedResource>(records.Count);
            foreach (var record in records)
            {
                try
                {
                    resources.Add(codec.Read(record));
                }
                catch (Exception exception) when (exception is JsonException or CryptographicException or NotSupportedException)
                {
                    // Another key-encryption key, or a document this version cannot read: left out, loudly.
                    LogUnreadable(exception, record.Kind, record.Id);
                }
            }

            return new ManagedConfiguration(revision, resources);
        }
        finally
        {
            if (ownTransaction is not null)
            {
                await ownTransaction.DisposeAsync();
            }
        }
    }

    [LoggerMessage(EventId = 1111, Level = LogLevel.Error, Message = "Managed {Kind} '{Id}' cannot be read and is left out of the configuration")]
    private partial void LogUnreadable(Exception exception, string kind, string id);
}
