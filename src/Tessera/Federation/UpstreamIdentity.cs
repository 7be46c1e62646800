namespace Tessera.Federation;

/// <summary>
/// What a connector returns after it verified an upstream answer: who the upstream says signed in, under which
/// connection, with which claims. Nothing here is trusted until a connector has checked every rule.
/// </summary>
public sealed record UpstreamIdentity(
    string OrganizationId,
    string ConnectionId,
    string Subject,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Claims)
{
    public string? Email { get; init; }
    public bool EmailVerified { get; init; }
    public string? Name { get; init; }
    public string? GivenName { get; init; }
    public string? FamilyName { get; init; }

    /// <summary>When the upstream session ends, if the upstream said so; the SSO session never outlives it.</summary>
    public DateTimeOffset? SessionExpiresAt { get; init; }

    public DateTimeOffset AuthenticatedAt { get; init; }

    /// <summary>Claims the connection copies from upstream into Tessera's tokens (SAML AttributeClaims).</summary>
    public IReadOnlyDictionary<string, string> MappedClaims { get; init; } = new Dictionary<string, string>();
}
