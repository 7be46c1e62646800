using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

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
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseOpenIddict();

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
        });

        modelBuilder.Entity<PendingLoginRecord>(pending =>
        {
            pending.ToTable("pending_logins");
            pending.HasKey(p => p.StateHash);
            pending.Property(p => p.StateHash).HasMaxLength(64);
            pending.Property(p => p.ConnectionId).HasMaxLength(100);
            pending.Property(p => p.BrowserBindingHash).HasMaxLength(64);
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

        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");

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
