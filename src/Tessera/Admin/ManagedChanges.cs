using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Admin;

/// <summary>One resource written or removed by a change: the resource as it should be, or null to remove it.</summary>
public sealed record ResourceChange(string Kind, string Id, ManagedResource? After);

/// <summary>
/// Writes the managed configuration. A change is checked by the configuration compiler against the file and every
/// other managed resource before anything is stored; it is then written in one transaction that also moves the
/// configuration revision (only from the revision it was checked against, so two concurrent changes cannot both pass
/// on a view the other invalidates) and notifies the other nodes. The node that made it applies it before answering,
/// so the next request there already sees it. Each change writes one audit row: who, what, and a digest of before and after.
/// </summary>
public sealed partial class ManagedChanges(
    TesseraDbContext db,
    ManagedConfigurationStore store,
    ManagedResourceCodec codec,
    ConfigurationWatcher watcher,
    ChangeNotifications notifications,
    TesseraConfiguration configuration,
    AuditLog audit,
    TimeProvider time,
    ILogger<ManagedChanges> logger)
{
    private const int Attempts = 5;

    /// <summary>
    /// Applies <paramref name="changes"/> (the first is the subject: its errors carry paths within it), after
    /// <paramref name="prepare"/> has looked at the current state and, if it wants, refused (by throwing an <see cref="AdminProblem"/>).
    /// </summary>
    public async Task<ManagedConfiguration> SaveAsync(string actor, string action, Func<ManagedConfiguration, IReadOnlyList<ResourceChange>> prepare, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Writers of the configuration take turns: on PostgreSQL the revision row is locked for the transaction (a
            // second writer waits, then reads what the first left); SQLite's write transaction is exclusive already.
            var revision = db.Database.IsNpgsql()
                ? await db.Database.SqlQueryRaw<long>("SELECT \"Revision\" AS \"Value\" FROM configuration_revision WHERE \"Id\" = 1 FOR UPDATE").SingleAsync(cancellationToken)
                : await db.ConfigurationRevisions.AsNoTracking().Where(r => r.Id == 1).Select(r => r.Revision).SingleAsync(cancellationToken);
            var current = await store.LoadAsync(db, cancellationToken);
            var changes = prepare(current);
            var now = time.GetUtcNow().UtcDateTime;
            var proposed = current;
            var stamped = new List<(ResourceChange Change, ManagedResource? Before)>();
            foreach (var change in changes)
            {
                var before = proposed.Find(change.Kind, change.Id);
                var after = change.After is null ? null : change.After with
                {
                    Version = (before?.Version ?? 0) + 1,
                    CreatedAt = before?.CreatedAt ?? now,
                    UpdatedAt = now,
                    UpdatedBy = actor,
                };
                proposed = proposed.With(change.Kind, change.Id, after);
                stamped.Add((change with { After = after }, before));
            }

            var subject = changes.Count > 0 ? (changes[0].Kind, changes[0].Id) : ((string, string)?)null;
            var errors = ConfigurationCompiler.Check(configuration.Current.File, proposed, subject, forServe: !configuration.Current.Development.Demo);
            if (errors.Count > 0)
            {
                throw AdminProblem.Invalid(errors);
            }

            foreach (var (change, _) in stamped)
            {
                var record = await db.ManagedResources.SingleOrDefaultAsync(r => r.Kind == change.Kind && r.Id == change.Id, cancellationToken);
                if (change.After is null)
                {
                    if (record is not null)
                    {
                        db.ManagedResources.Remove(record);
                    }

                    continue;
                }

                if (record is null)
                {
                    record = new ManagedResourceRecord { Kind = change.Kind, Id = change.Id };
                    db.ManagedResources.Add(record);
                }

                codec.Write(record, change.After);
                record.Version = change.After.Version;
                record.CreatedAt = change.After.CreatedAt;
                record.UpdatedAt = now;
                record.UpdatedBy = actor;
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException) when (attempt < Attempts)
            {
                // Another node wrote the same resource first (its row was locked until it committed): look again.
                await transaction.RollbackAsync(cancellationToken);
                continue;
            }

            // The revision moves only from the one this change was checked against: otherwise someone else changed the
            // configuration meanwhile, and the check is repeated on what they left.
            var next = revision + 1;
            var moved = await db.ConfigurationRevisions.Where(r => r.Id == 1 && r.Revision == revision)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.Revision, next).SetProperty(r => r.ChangedAt, now), cancellationToken);
            if (moved != 1)
            {
                await transaction.RollbackAsync(cancellationToken);
                if (attempt == Attempts)
                {
                    throw AdminProblem.Conflict("The configuration is being changed by someone else at the same moment; try again.");
                }

                continue;
            }

            if (db.Database.IsNpgsql())
            {
                // Delivered to the listening nodes when the transaction commits, not before.
                await db.Database.ExecuteSqlAsync($"SELECT pg_notify({ChangeNotifications.ConfigurationChannel}, {next.ToString(System.Globalization.CultureInfo.InvariantCulture)})", cancellationToken);
            }

            // The audit rows are stored with the change: both, or neither.
            foreach (var (change, before) in stamped)
            {
                audit.Stage(db, Event(actor, action, change, before));
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            var applied = new ManagedConfiguration(next, proposed.Resources);
            try
            {
                await watcher.ApplyManagedAsync(applied, CancellationToken.None);
            }
            catch (Exception exception) when (exception is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
            {
                // Stored is stored: the change is in force here once the watcher's next tick has it (within a second).
                LogApplyFailed(exception, next);
            }

            notifications.Wake();
            return applied;
        }
    }

    private static AuditEvent Event(string actor, string action, ResourceChange change, ManagedResource? before)
    {
        var secretFields = ManagedResourceCodec.SecretFields(change.Kind);
        var changedSecrets = secretFields.Where(f => Secret(before, f) != Secret(change.After, f)).ToList();
        if (change.Kind == ManagedKinds.Client && !(before?.ClientSecrets ?? []).Select(s => s.Id).SequenceEqual((change.After?.ClientSecrets ?? []).Select(s => s.Id)))
        {
            changedSecrets.Add("ClientSecret");
        }

        return new AuditEvent(AuditEvents.AdminChanged, AuditEvent.Success)
        {
            ClientId = actor.StartsWith("portal:", StringComparison.Ordinal) ? null : actor,
            OrganizationId = change.Kind == ManagedKinds.Organization ? change.Id : (change.After ?? before)?.OrganizationId,
            ConnectionId = change.Kind == ManagedKinds.Connection ? change.Id : null,
            Reason = $"{action} {change.Kind} '{change.Id}'",
            Detail = new Dictionary<string, string?>
            {
                ["by"] = actor,
                ["kind"] = change.Kind,
                ["id"] = change.Id,
                ["action"] = change.After is null ? "delete" : before is null ? "create" : action,
                ["before"] = ManagedResourceCodec.Digest(before),
                ["after"] = ManagedResourceCodec.Digest(change.After),
                ["secrets_changed"] = changedSecrets.Count == 0 ? null : string.Join(' ', changedSecrets.Distinct()),
            },
        };
    }

    private static string? Secret(ManagedResource? resource, string field) =>
        resource?.Options.GetType().GetProperty(field)?.GetValue(resource.Options) as string;

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Managed configuration revision {Revision} is stored; applying it on this node failed and is left to the next refresh")]
    private partial void LogApplyFailed(Exception exception, long revision);
}
