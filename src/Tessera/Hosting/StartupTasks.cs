using Tessera.Audit;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Hosting;

/// <summary>
/// Runs before the server accepts requests: schema migrations (unless turned off), the key ring, the managed
/// configuration, and the client registrations. Registered first, so every other hosted service starts on a ready database.
/// </summary>
public sealed class StartupTasks(
    StorageInitializer storage,
    KeyRing keys,
    ConfigurationWatcher watcher,
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

        // The file's part compiled before the host was built; now the database can add the managed resources.
        // The client registrations are synchronized with it.
        await watcher.RefreshManagedAsync(cancellationToken, force: true);
        options = configuration.Current;
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
