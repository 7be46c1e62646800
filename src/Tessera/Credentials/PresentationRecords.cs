using Microsoft.EntityFrameworkCore;

namespace Tessera.Credentials;

/// <summary>
/// One OpenID4VP request Tessera made for an app, from creation to the app redeeming its result: pending until the
/// wallet answers, then verified (with the result claims) or refused (with the reason), then redeemed once. The
/// response code is stored by hash only; the result claims live only until the app redeems them or the record expires.
/// </summary>
public sealed class PresentationRequestRecord
{
    public const string Pending = "pending";
    public const string Verified = "verified";
    public const string Refused = "refused";
    public const string Redeemed = "redeemed";

    /// <summary>An OpenID4VP request a wallet answers at the response URI.</summary>
    public const string OpenId4Vp = "openid4vp";

    /// <summary>A nonce an app handed a wallet, redeemed once by a token exchange of the presentation bound to it.</summary>
    public const string Exchange = "exchange";

    /// <summary>The request id: the app names it when it redeems, and the wallet's request_uri carries it.</summary>
    public string Id { get; set; } = "";

    /// <summary><see cref="OpenId4Vp"/> or <see cref="Exchange"/>: each flow finds only its own records.</summary>
    public string Purpose { get; set; } = OpenId4Vp;

    public string ClientId { get; set; } = "";
    public string PresentationId { get; set; } = "";

    /// <summary>The app's registered redirect URI for the same-device flow; null for cross-device.</summary>
    public string? RedirectUri { get; set; }

    public string Nonce { get; set; } = "";
    public string StateHash { get; set; } = "";
    public string Status { get; set; } = Pending;
    public string? ResponseCodeHash { get; set; }

    /// <summary>The result claims (JSON object) while verified and not yet redeemed.</summary>
    public string? Claims { get; set; }

    /// <summary>The pairwise subject derived from the holder key.</summary>
    public string? Subject { get; set; }

    /// <summary>Why the presentation was refused: a reason, never a claim value.</summary>
    public string? Failure { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? AnsweredAt { get; set; }
}

/// <summary>The verifier's tables, in the one model every provider shares.</summary>
public static class PresentationStorage
{
    public static void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<PresentationRequestRecord>(request =>
        {
            request.ToTable("presentation_requests");
            request.HasKey(r => r.Id);
            request.Property(r => r.Id).HasMaxLength(64);
            request.Property(r => r.Purpose).HasMaxLength(16);
            request.Property(r => r.ClientId).HasMaxLength(200);
            request.Property(r => r.PresentationId).HasMaxLength(100);
            request.Property(r => r.RedirectUri).HasMaxLength(2000);
            request.Property(r => r.Nonce).HasMaxLength(64);
            request.Property(r => r.StateHash).HasMaxLength(64);
            request.Property(r => r.Status).HasMaxLength(16);
            request.Property(r => r.ResponseCodeHash).HasMaxLength(64);
            request.Property(r => r.Subject).HasMaxLength(64);
            request.Property(r => r.Failure).HasMaxLength(100);
            request.HasIndex(r => r.StateHash).IsUnique();
            request.HasIndex(r => r.ExpiresAt);
        });
    }
}
