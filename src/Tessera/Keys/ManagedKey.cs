using Microsoft.IdentityModel.Tokens;

namespace Tessera.Keys;

/// <summary>A decrypted key with its lifecycle: published from creation, signs from activation to retirement, verifies until expiry.</summary>
public sealed record ManagedKey(
    string Id,
    string Use,
    string Algorithm,
    SecurityKey Key,
    DateTimeOffset CreatedAt,
    DateTimeOffset ActivatesAt,
    DateTimeOffset RetiresAt,
    DateTimeOffset ExpiresAt)
{
    public const string Signing = "sig";
    public const string Encryption = "enc";

    public bool IsActiveAt(DateTimeOffset now) => ActivatesAt <= now && now < RetiresAt;

    public bool IsUsableAt(DateTimeOffset now) => now < ExpiresAt;

    public string StateAt(DateTimeOffset now) =>
        now >= ExpiresAt ? "expired" : now < ActivatesAt ? "published" : now < RetiresAt ? "active" : "retired";
}
