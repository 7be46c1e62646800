using Tessera.Audit;
using Tessera.Keys;
using Tessera.Protocol;
using Tessera.Storage;

namespace Tessera.Hosting;

/// <summary>
/// Runs before the server accepts requests: schema migrations (unless turned off), the key ring, and the client
/// registrations. Registered first, so every other hosted service starts on a ready database.
/// </summary>
public sealed class StartupTasks(
    StorageInitializer storage,
    KeyRing keys,
    ClientSynchronizer clients,
    TesseraConfiguration configuration,
    AuditLog audit) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = configuration.Current;
        if (options.Storage.ApplyMigrations)
        {
            await storage.MigrateAsync(cancellationToken);
        }
        else if ((await storage.PendingMigrationsAsync(cancellationToken)).Count > 0)
        {
            throw new InvalidOperationException("The database schema is out of date and ApplyMigrations is off: run 'tessera migrate' first.");
        }

        await keys.LoadAsync(cancellationToken);
        await clients.SynchronizeAsync(options, cancellationToken);
        audit.Record(new AuditEvent(AuditEvents.ConfigurationApplied, AuditEvent.Success)
        {
            Detail = new Dictionary<string, string?>
            {
                ["file"] = configuration.File,
                ["clients"] = options.Clients.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["organizations"] = options.Organizations.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
