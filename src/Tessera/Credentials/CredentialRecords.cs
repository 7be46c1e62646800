using Microsoft.EntityFrameworkCore;

namespace Tessera.Credentials;

/// <summary>
/// A credential Tessera issued: whose, of which configuration, and its entry in a status list. Never the credential
/// itself: its claims are the user's, and the holder keeps it.
/// </summary>
public sealed class IssuedCredentialRecord
{
    public string Id { get; set; } = "";
    public Guid UserId { get; set; }
    public string OrganizationId { get; set; } = "";
    public string ConfigurationId { get; set; } = "";
    public int StatusList { get; set; }
    public int StatusIndex { get; set; }

    /// <summary>The holder key's JWK thumbprint (RFC 7638), so that an operator can tell a user's wallets apart.</summary>
    public string HolderKeyThumbprint { get; set; } = "";

    public DateTime IssuedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public string? RevokedReason { get; set; }
}

/// <summary>A credential offer with a pre-authorized code (OpenID4VCI 1.0 §4.1.1): only hashes are stored; the code is used once.</summary>
public sealed class CredentialOfferRecord
{
    public string CodeHash { get; set; } = "";
    public string ConfigurationId { get; set; } = "";
    public Guid UserId { get; set; }
    public string OrganizationId { get; set; } = "";

    /// <summary>Null when the offer needs no transaction code.</summary>
    public string? TransactionCodeHash { get; set; }

    /// <summary>Wrong transaction codes so far; at <see cref="CredentialOffers.MaxAttempts"/> the code is dead.</summary>
    public int FailedAttempts { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
}

/// <summary>A <c>c_nonce</c> from the nonce endpoint (OpenID4VCI 1.0 §7), by hash, until a proof uses it or it expires.</summary>
public sealed class CredentialNonceRecord
{
    public string NonceHash { get; set; } = "";
    public DateTime ExpiresAt { get; set; }
}

/// <summary>The tables of issuing, in the one model every provider shares.</summary>
public static class CredentialStorage
{
    public static void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<IssuedCredentialRecord>(issued =>
        {
            issued.ToTable("issued_credentials");
            issued.HasKey(c => c.Id);
            issued.Property(c => c.Id).HasMaxLength(32);
            issued.Property(c => c.OrganizationId).HasMaxLength(100);
            issued.Property(c => c.ConfigurationId).HasMaxLength(100);
            issued.Property(c => c.HolderKeyThumbprint).HasMaxLength(64);
            issued.Property(c => c.RevokedReason).HasMaxLength(100);

            // One credential per entry: an index is drawn at random and a collision draws again.
            issued.HasIndex(c => new { c.StatusList, c.StatusIndex }).IsUnique();
            issued.HasIndex(c => c.UserId);
        });

        modelBuilder.Entity<CredentialOfferRecord>(offer =>
        {
            offer.ToTable("credential_offers");
            offer.HasKey(o => o.CodeHash);
            offer.Property(o => o.CodeHash).HasMaxLength(64);
            offer.Property(o => o.ConfigurationId).HasMaxLength(100);
            offer.Property(o => o.OrganizationId).HasMaxLength(100);
            offer.Property(o => o.TransactionCodeHash).HasMaxLength(64);
            offer.HasIndex(o => o.ExpiresAt);
        });

        modelBuilder.Entity<CredentialNonceRecord>(nonce =>
        {
            nonce.ToTable("credential_nonces");
            nonce.HasKey(n => n.NonceHash);
            nonce.Property(n => n.NonceHash).HasMaxLength(64);
            nonce.HasIndex(n => n.ExpiresAt);
        });
    }
}
