namespace Tessera.Storage;

/// <summary>An internal user: one per (organization, connection, upstream subject). The id is the <c>sub</c> Tessera issues.</summary>
public sealed class UserRecord
{
    public Guid Id { get; set; }
    public string OrganizationId { get; set; } = "";
    public string? Email { get; set; }
    public bool EmailVerified { get; set; }
    public string? Name { get; set; }
    public string? GivenName { get; set; }
    public string? FamilyName { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? DisabledAt { get; set; }
}

/// <summary>Links an upstream identity to the internal user it resolved to, never by email.</summary>
public sealed class ExternalIdentityRecord
{
    public long Id { get; set; }
    public string OrganizationId { get; set; } = "";
    public string ConnectionId { get; set; } = "";
    public string Subject { get; set; } = "";
    public Guid UserId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime LastSignInAt { get; set; }
}

/// <summary>A server-side SSO session. The browser holds a random secret; only its hash is stored.</summary>
public sealed class SessionRecord
{
    public string Id { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public Guid UserId { get; set; }
    public string OrganizationId { get; set; } = "";
    public string ConnectionId { get; set; } = "";

    /// <summary>JSON: scopes and claims the mapping rules granted at sign-in.</summary>
    public string Grants { get; set; } = "{}";

    public DateTime AuthenticatedAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public string? EndReason { get; set; }
}

/// <summary>Which OpenIddict authorizations (token families) were granted under a session, so ending it ends them.</summary>
public sealed class SessionAuthorizationRecord
{
    public string SessionId { get; set; } = "";
    public string AuthorizationId { get; set; } = "";
    public string ClientId { get; set; } = "";
    public DateTime CreatedAt { get; set; }
}

/// <summary>An upstream sign-in in flight: what the callback needs to verify the answer, used once.</summary>
public sealed class PendingLoginRecord
{
    public string StateHash { get; set; } = "";
    public string ConnectionId { get; set; } = "";
    public string Nonce { get; set; } = "";
    public string CodeVerifier { get; set; } = "";
    public string BrowserBindingHash { get; set; } = "";
    public string ReturnUrl { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}

/// <summary>A signing or token-encryption key; the private part is ciphertext under the key-encryption key.</summary>
public sealed class KeyRecord
{
    public string Id { get; set; } = "";
    public string Use { get; set; } = "";
    public string Algorithm { get; set; } = "";
    public byte[] ProtectedKey { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime ActivatesAt { get; set; }
    public DateTime RetiresAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}

/// <summary>An access token revoked before its expiry that has no token entry of its own (client credentials).</summary>
public sealed class RevokedTokenRecord
{
    public string TokenId { get; set; } = "";
    public DateTime ExpiresAt { get; set; }
    public DateTime RevokedAt { get; set; }
}

/// <summary>A client assertion already presented; kept until it expires so it cannot authenticate twice.</summary>
public sealed class UsedClientAssertionRecord
{
    public string ClientId { get; set; } = "";
    public string TokenId { get; set; } = "";
    public DateTime ExpiresAt { get; set; }
}

/// <summary>A SAML assertion already accepted, kept until it expires so it is accepted once (across restarts and nodes).</summary>
public sealed class UsedSamlAssertionRecord
{
    /// <summary>SHA-256 (hex) of the IdP entity id and the assertion ID.</summary>
    public string Key { get; set; } = "";
    public DateTime ExpiresAt { get; set; }
}

/// <summary>One row of the append-only, hash-chained audit log.</summary>
public sealed class AuditRecord
{
    public long Id { get; set; }
    public DateTime OccurredAt { get; set; }
    public string Event { get; set; } = "";
    public string Outcome { get; set; } = "";
    public string? OrganizationId { get; set; }
    public string? UserId { get; set; }
    public string? ClientId { get; set; }
    public string? ConnectionId { get; set; }
    public string? IpAddress { get; set; }
    public string? UserAgent { get; set; }
    public string? Reason { get; set; }
    public string? Detail { get; set; }
    public string PreviousHash { get; set; } = "";
    public string Hash { get; set; } = "";
}
