namespace Tessera.Federation;

/// <summary>
/// A connector whose upstream's assertions may be presented at the token endpoint as subject or actor tokens
/// (RFC 8693 §3, e.g. <c>urn:ietf:params:oauth:token-type:saml2</c>): it verifies one against a connection's trust
/// the way a sign-in would, addressed to Tessera's token endpoint instead of the ACS.
/// </summary>
public interface IExchangesAssertions
{
    /// <summary>The RFC 8693 token type of these assertions.</summary>
    string TokenType { get; }

    Task<AssertionVerification> VerifyAssertionAsync(Connection connection, string assertion, CancellationToken cancellationToken);
}

/// <summary>
/// A verified assertion's identity and expiry, or why it was refused. <see cref="TryOthers"/>: another connection may
/// still verify it (a refusal with no rule means only that this connection's IdP did not issue it).
/// </summary>
public sealed record AssertionVerification(UpstreamIdentity? Identity, string? Issuer, DateTimeOffset ExpiresAt, string? Rule, string? Description, bool TryOthers)
{
    public bool Succeeded => Identity is not null;

    public static AssertionVerification Verified(UpstreamIdentity identity, string issuer, DateTimeOffset expiresAt) => new(identity, issuer, expiresAt, null, null, false);

    public static AssertionVerification Refused(string rule, string description) => new(null, null, default, rule, description, false);

    public static AssertionVerification NotVerified(string? rule, string? description) => new(null, null, default, rule, description, true);
}
