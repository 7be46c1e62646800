using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Tessera.Directory;

namespace Tessera.Storage;

/// <summary>
/// The one model for every provider. Each provider has a thin subclass that owns its migrations
/// (<see cref="SqliteTesseraDbContext"/>, <see cref="PostgresTesseraDbContext"/>).
/// </summary>
public abstract class TesseraDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<UserRecord> Users => Set<UserRecord>();
    public DbSet<ExternalIdentityRecord> ExternalIdentities => Set<ExternalIdentityRecord>();
    public DbSet<SessionRecord> Sessions => Set<SessionRecord>();
    public DbSet<SessionAuthorizationRecord> SessionAuthorizations => Set<SessionAuthorizationRecord>();
    public DbSet<PendingLoginRecord> PendingLogins => Set<PendingLoginRecord>();
    public DbSet<KeyRecord> Keys => Set<KeyRecord>();
    public DbSet<RevokedTokenRecord> RevokedTokens => Set<RevokedTokenRecord>();
    public DbSet<UsedClientAssertionRecord> UsedClientAssertions => Set<UsedClientAssertionRecord>();
    public DbSet<UsedSamlAssertionRecord> UsedSamlAssertions => Set<UsedSamlAssertionRecord>();
    public DbSet<AuditRecord> AuditEvents => Set<AuditRecord>();
    public DbSet<AuditPendingRecord> AuditPending => Set<AuditPendingRecord>();
    public DbSet<AuditCheckpointRecord> AuditCheckpoints => Set<AuditCheckpointRecord>();
    public DbSet<AuditStreamRecord> AuditStreams => Set<AuditStreamRecord>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<DirectoryUserRecord> DirectoryUsers => Set<DirectoryUserRecord>();
    public DbSet<DirectoryUserValueRecord> DirectoryUserValues => Set<DirectoryUserValueRecord>();
    public DbSet<DirectoryGroupRecord> DirectoryGroups => Set<DirectoryGroupRecord>();
    public DbSet<DirectoryMemberRecord> DirectoryMembers => Set<DirectoryMemberRecord>();
    public DbSet<ScimTokenRecord> ScimTokens => Set<ScimTokenRecord>();
    public DbSet<SignalEventRecord> SignalEvents => Set<SignalEventRecord>();
    public DbSet<SignalDeliveryRecord> SignalDeliveries => Set<SignalDeliveryRecord>();
    public DbSet<ManagedResourceRecord> ManagedResources => Set<ManagedResourceRecord>();
    public DbSet<ConfigurationRevisionRecord> ConfigurationRevisions => Set<ConfigurationRevisionRecord>();
    public DbSet<SetupLinkRecord> SetupLinks => Set<SetupLinkRecord>();
    public DbSet<PortalSessionRecord> PortalSessions => Set<PortalSessionRecord>();
    public DbSet<ConnectionTestRecord> ConnectionTests => Set<ConnectionTestRecord>();
    public DbSet<RiskObservationRecord> RiskObservations => Set<RiskObservationRecord>();
    public DbSet<FailureCountRecord> FailureCounts => Set<FailureCountRecord>();
    public DbSet<LockoutRecord> Lockouts => Set<LockoutRecord>();
    public DbSet<Credentials.IssuedCredentialRecord> IssuedCredentials => Set<Credentials.IssuedCredentialRecord>();
    public DbSet<Credentials.CredentialOfferRecord> CredentialOffers => Set<Credentials.CredentialOfferRecord>();
    public DbSet<Credentials.CredentialNonceRecord> CredentialNonces => Set<Credentials.CredentialNonceRecord>();
    public DbSet<Credentials.PresentationRequestRecord> PresentationRequests => Set<Credentials.PresentationRequestRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseOpenIddict();
        Credentials.CredentialStorage.Configure(modelBuilder);
        Credentials.PresentationStorage.Configure(modelBuilder);

        modelBuilder.Entity<UserRecord>(user =>
        {
            user.ToTable("users");
            user.HasKey(u => u.Id);
            user.Property(u => u.OrganizationId).HasMaxLength(100);
            user.Property(u => u.Email).HasMaxLength(320);
            user.Property(u => u.Name).HasMaxLength(500);
            user.Property(u => u.GivenName).HasMaxLength(200);
            user.Property(u => u.FamilyName).HasMaxLength(200);
            user.HasIndex(u => new { u.OrganizationId, u.Email });
        });

        modelBuilder.Entity<ExternalIdentityRecord>(link =>
        {
            link.ToTable("external_identities");
            link.HasKey(l => l.Id);
            link.Property(l => l.OrganizationId).HasMaxLength(100);
            link.Property(l => l.ConnectionId).HasMaxLength(100);
            link.Property(l => l.Subject).HasMaxLength(500);
            link.HasIndex(l => new { l.OrganizationId, l.ConnectionId, l.Subject }).IsUnique();
            link.HasIndex(l => l.UserId);
        });

        modelBuilder.Entity<SessionRecord>(session =>
        {
            session.ToTable("sessions");
            session.HasKey(s => s.Id);
            session.Property(s => s.Id).HasMaxLength(64);
            session.Property(s => s.SecretHash).HasMaxLength(64);
            session.Property(s => s.OrganizationId).HasMaxLength(100);
            session.Property(s => s.ConnectionId).HasMaxLength(100);
            session.Property(s => s.EndReason).HasMaxLength(100);
            session.HasIndex(s => s.SecretHash).IsUnique();
            session.HasIndex(s => s.UserId);
        });

        modelBuilder.Entity<SessionAuthorizationRecord>(link =>
        {
            link.ToTable("session_authorizations");
            link.HasKey(l => new { l.SessionId, l.AuthorizationId });
            link.Property(l => l.SessionId).HasMaxLength(64);
            link.Property(l => l.AuthorizationId).HasMaxLength(100);
            link.Property(l => l.ClientId).HasMaxLength(100);
            link.HasIndex(l => l.AuthorizationId);
        });

        modelBuilder.Entity<PendingLoginRecord>(pending =>
        {
            pending.ToTable("pending_logins");
            pending.HasKey(p => p.StateHash);
            pending.Property(p => p.StateHash).HasMaxLength(64);
            pending.Property(p => p.ConnectionId).HasMaxLength(100);
            pending.Property(p => p.BrowserBindingHash).HasMaxLength(64);
            pending.Property(p => p.ConnectionTestId).HasMaxLength(32);
            pending.HasIndex(p => p.ExpiresAt);
        });

        modelBuilder.Entity<KeyRecord>(key =>
        {
            key.ToTable("keys");
            key.HasKey(k => k.Id);
            key.Property(k => k.Id).HasMaxLength(64);
            key.Property(k => k.Use).HasMaxLength(8);
            key.Property(k => k.Algorithm).HasMaxLength(16);
        });

        modelBuilder.Entity<RevokedTokenRecord>(revoked =>
        {
            revoked.ToTable("revoked_tokens");
            revoked.HasKey(r => r.TokenId);
            revoked.Property(r => r.TokenId).HasMaxLength(100);
            revoked.HasIndex(r => r.ExpiresAt);
        });

        modelBuilder.Entity<UsedClientAssertionRecord>(used =>
        {
            used.ToTable("used_client_assertions");
            used.HasKey(u => new { u.ClientId, u.TokenId });
            used.Property(u => u.ClientId).HasMaxLength(100);
            used.Property(u => u.TokenId).HasMaxLength(200);
            used.HasIndex(u => u.ExpiresAt);
        });

        modelBuilder.Entity<UsedSamlAssertionRecord>(used =>
        {
            used.ToTable("used_saml_assertions");
            used.HasKey(u => u.Key);
            used.Property(u => u.Key).HasMaxLength(64);
            used.HasIndex(u => u.ExpiresAt);
        });

        modelBuilder.Entity<AuditPendingRecord>(pending =>
        {
            pending.ToTable("audit_pending");
            pending.HasKey(p => p.Id);
        });

        modelBuilder.Entity<AuditRecord>(audit =>
        {
            audit.ToTable("audit_events");
            audit.HasKey(a => a.Id);
            audit.Property(a => a.Event).HasMaxLength(100);
            audit.Property(a => a.Outcome).HasMaxLength(20);
            audit.Property(a => a.OrganizationId).HasMaxLength(100);
            audit.Property(a => a.UserId).HasMaxLength(100);
            audit.Property(a => a.ClientId).HasMaxLength(100);
            audit.Property(a => a.ConnectionId).HasMaxLength(100);
            audit.Property(a => a.IpAddress).HasMaxLength(64);
            audit.Property(a => a.UserAgent).HasMaxLength(512);
            audit.Property(a => a.Reason).HasMaxLength(500);
            audit.Property(a => a.PreviousHash).HasMaxLength(64);
            audit.Property(a => a.Hash).HasMaxLength(64);
            audit.HasIndex(a => a.OccurredAt);
            audit.HasIndex(a => a.Event);
        });

        modelBuilder.Entity<AuditCheckpointRecord>(checkpoint =>
        {
            checkpoint.ToTable("audit_checkpoints");
            checkpoint.HasKey(c => c.Id);
            checkpoint.Property(c => c.HeadHash).HasMaxLength(64);

            // One checkpoint per head, however many nodes race to sign it.
            checkpoint.HasIndex(c => c.HeadId).IsUnique();
        });

        modelBuilder.Entity<AuditStreamRecord>(stream =>
        {
            stream.ToTable("audit_streams");
            stream.HasKey(s => s.StreamId);
            stream.Property(s => s.StreamId).HasMaxLength(100);
            stream.Property(s => s.LeaseOwner).HasMaxLength(100);
            stream.Property(s => s.LastError).HasMaxLength(500);
        });

        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");

        modelBuilder.Entity<DirectoryUserRecord>(user =>
        {
            user.ToTable("directory_users");
            user.HasKey(u => u.UserId);
            user.Property(u => u.OrganizationId).HasMaxLength(100);
            user.Property(u => u.UserName).HasMaxLength(ScimLimits.MaxStringLength);
            user.Property(u => u.UserNameKey).HasMaxLength(ScimLimits.MaxStringLength);
            user.Property(u => u.ExternalId).HasMaxLength(ScimLimits.MaxStringLength);
            user.Property(u => u.DisplayName).HasMaxLength(ScimLimits.MaxStringLength);
            user.Property(u => u.DisplayNameKey).HasMaxLength(ScimLimits.MaxStringLength);
            user.Property(u => u.Version).IsConcurrencyToken();
            user.HasIndex(u => new { u.OrganizationId, u.UserNameKey }).IsUnique();
            user.HasIndex(u => new { u.OrganizationId, u.ExternalId });
            user.HasIndex(u => new { u.OrganizationId, u.DisplayNameKey });
            user.HasIndex(u => new { u.OrganizationId, u.CreatedAt });
            user.HasIndex(u => new { u.OrganizationId, u.UpdatedAt });
            user.HasIndex(u => new { u.OrganizationId, u.Active });
            user.HasOne<UserRecord>().WithOne().HasForeignKey<DirectoryUserRecord>(u => u.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DirectoryUserValueRecord>(value =>
        {
            value.ToTable("directory_user_values");
            value.HasKey(v => v.Id);
            value.Property(v => v.Attribute).HasMaxLength(200);
            value.Property(v => v.SubAttribute).HasMaxLength(100);
            value.Property(v => v.Key).HasMaxLength(ScimLimits.MaxStringLength);
            value.HasIndex(v => new { v.Attribute, v.SubAttribute, v.Key });
            value.HasIndex(v => new { v.UserId, v.Attribute, v.Ordinal });
            value.HasOne<DirectoryUserRecord>().WithMany().HasForeignKey(v => v.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DirectoryGroupRecord>(group =>
        {
            group.ToTable("directory_groups");
            group.HasKey(g => g.Id);
            group.Property(g => g.OrganizationId).HasMaxLength(100);
            group.Property(g => g.DisplayName).HasMaxLength(ScimLimits.MaxStringLength);
            group.Property(g => g.DisplayNameKey).HasMaxLength(ScimLimits.MaxStringLength);
            group.Property(g => g.ExternalId).HasMaxLength(ScimLimits.MaxStringLength);
            group.Property(g => g.Version).IsConcurrencyToken();
            group.HasIndex(g => new { g.OrganizationId, g.DisplayNameKey }).IsUnique();
            group.HasIndex(g => new { g.OrganizationId, g.ExternalId });
        });

        modelBuilder.Entity<DirectoryMemberRecord>(member =>
        {
            member.ToTable("directory_members");
            member.HasKey(m => new { m.GroupId, m.UserId });
            member.HasIndex(m => m.UserId);
            member.HasOne<DirectoryGroupRecord>().WithMany().HasForeignKey(m => m.GroupId).OnDelete(DeleteBehavior.Cascade);
            member.HasOne<DirectoryUserRecord>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ScimTokenRecord>(token =>
        {
            token.ToTable("scim_tokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.Id).HasMaxLength(32);
            token.Property(t => t.OrganizationId).HasMaxLength(100);
            token.Property(t => t.Hash).HasMaxLength(64);
            token.Property(t => t.Description).HasMaxLength(200);
            token.HasIndex(t => t.Hash).IsUnique();
        });

        modelBuilder.Entity<SignalEventRecord>(signal =>
        {
            signal.ToTable("signal_events");
            signal.HasKey(e => e.Id);
            signal.Property(e => e.Type).HasMaxLength(32);
            signal.Property(e => e.OrganizationId).HasMaxLength(100);
            signal.Property(e => e.SessionId).HasMaxLength(64);
            signal.Property(e => e.InitiatingEntity).HasMaxLength(16);
            signal.Property(e => e.Reason).HasMaxLength(200);
            signal.HasIndex(e => e.OccurredAt);
        });

        modelBuilder.Entity<SignalDeliveryRecord>(delivery =>
        {
            delivery.ToTable("signal_deliveries");
            delivery.HasKey(d => d.Id);
            delivery.Property(d => d.Channel).HasMaxLength(32);
            delivery.Property(d => d.Destination).HasMaxLength(100);
            delivery.Property(d => d.TokenId).HasMaxLength(64);
            delivery.Property(d => d.Outcome).HasMaxLength(16);
            delivery.Property(d => d.LastError).HasMaxLength(300);
            delivery.HasIndex(d => d.TokenId).IsUnique();

            // What is still to be sent, per channel and destination, oldest first.
            delivery.HasIndex(d => new { d.CompletedAt, d.Channel, d.Destination, d.Id });
            delivery.HasOne(d => d.Event).WithMany().HasForeignKey(d => d.EventId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ManagedResourceRecord>(resource =>
        {
            resource.ToTable("managed_resources");
            resource.HasKey(r => new { r.Kind, r.Id });
            resource.Property(r => r.Kind).HasMaxLength(32);
            resource.Property(r => r.Id).HasMaxLength(100);
            resource.Property(r => r.OrganizationId).HasMaxLength(100);
            resource.Property(r => r.Status).HasMaxLength(16);
            resource.Property(r => r.UpdatedBy).HasMaxLength(200);
            resource.Property(r => r.Version).IsConcurrencyToken();
            resource.HasIndex(r => r.OrganizationId);
        });

        modelBuilder.Entity<ConfigurationRevisionRecord>(revision =>
        {
            revision.ToTable("configuration_revision");
            revision.HasKey(r => r.Id);
            revision.Property(r => r.Id).ValueGeneratedNever();
            revision.HasData(new ConfigurationRevisionRecord { Id = 1, Revision = 0, ChangedAt = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) });
        });

        modelBuilder.Entity<SetupLinkRecord>(link =>
        {
            link.ToTable("setup_links");
            link.HasKey(l => l.Id);
            link.Property(l => l.Id).HasMaxLength(32);
            link.Property(l => l.OrganizationId).HasMaxLength(100);
            link.Property(l => l.TokenHash).HasMaxLength(64);
            link.Property(l => l.CreatedBy).HasMaxLength(200);
            link.HasIndex(l => l.TokenHash).IsUnique();
            link.HasIndex(l => l.OrganizationId);
        });

        modelBuilder.Entity<PortalSessionRecord>(session =>
        {
            session.ToTable("portal_sessions");
            session.HasKey(s => s.Id);
            session.Property(s => s.Id).HasMaxLength(32);
            session.Property(s => s.SecretHash).HasMaxLength(64);
            session.Property(s => s.OrganizationId).HasMaxLength(100);
            session.Property(s => s.SetupLinkId).HasMaxLength(32);
            session.HasIndex(s => s.SecretHash).IsUnique();
            session.HasIndex(s => s.ExpiresAt);
        });

        modelBuilder.Entity<ConnectionTestRecord>(test =>
        {
            test.ToTable("connection_tests");
            test.HasKey(t => t.Id);
            test.Property(t => t.Id).HasMaxLength(32);
            test.Property(t => t.OrganizationId).HasMaxLength(100);
            test.Property(t => t.ConnectionId).HasMaxLength(100);
            test.Property(t => t.PortalSessionId).HasMaxLength(32);
            test.HasIndex(t => new { t.ConnectionId, t.StartedAt });
        });

        modelBuilder.Entity<RiskObservationRecord>(observation =>
        {
            observation.ToTable("risk_observations");
            observation.HasKey(o => o.Id);
            observation.Property(o => o.OrganizationId).HasMaxLength(100);
            observation.Property(o => o.IpAddress).HasMaxLength(64);
            observation.Property(o => o.Country).HasMaxLength(2);
            observation.Property(o => o.City).HasMaxLength(100);
            observation.Property(o => o.Kind).HasMaxLength(16);
            observation.Property(o => o.SessionId).HasMaxLength(64);
            observation.HasIndex(o => new { o.UserId, o.ObservedAt });
            observation.HasIndex(o => o.SessionId);
            observation.HasIndex(o => o.ObservedAt);
        });

        modelBuilder.Entity<FailureCountRecord>(failures =>
        {
            failures.ToTable("failure_counts");
            failures.HasKey(f => new { f.Key, f.WindowStart });
            failures.Property(f => f.Key).HasMaxLength(160);
            failures.HasIndex(f => f.WindowStart);
        });

        modelBuilder.Entity<LockoutRecord>(lockout =>
        {
            lockout.ToTable("lockouts");
            lockout.HasKey(l => l.Key);
            lockout.Property(l => l.Key).HasMaxLength(160);
            lockout.HasIndex(l => l.Until);
        });

        // Every timestamp is UTC; SQLite forgets the kind on the way back, PostgreSQL insists on it on the way in.
        var utc = new ValueConverter<DateTime, DateTime>(v => DateTime.SpecifyKind(v, DateTimeKind.Utc), v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
        var nullableUtc = new ValueConverter<DateTime?, DateTime?>(
            v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : v,
            v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : v);
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                if (property.ClrType == typeof(DateTime))
                {
                    property.SetValueConverter(utc);
                }
                else if (property.ClrType == typeof(DateTime?))
                {
                    property.SetValueConverter(nullableUtc);
                }
            }
        }
    }
}

public sealed class SqliteTesseraDbContext(DbContextOptions<SqliteTesseraDbContext> options) : TesseraDbContext(options);

public sealed class PostgresTesseraDbContext(DbContextOptions<PostgresTesseraDbContext> options) : TesseraDbContext(options);
