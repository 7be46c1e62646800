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

    /// <summary>Tokens issued to this user before this instant are dead, even after the user is enabled again.</summary>
    public DateTime? TokensValidAfter { get; set; }

    /// <summary>JSON: the upstream claims of the latest sign-in (name to values), for credentials made from them.</summary>
    public string Attributes { get; set; } = "{}";
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

    /// <summary>Null for a sign-in; the id of a <see cref="ConnectionTestRecord"/> when an admin is testing a connection.</summary>
    public string? ConnectionTestId { get; set; }

    /// <summary>This upstream leg is the fresh sign-in an anomaly rule asked for (challenge): it is not challenged again.</summary>
    public bool Challenged { get; set; }

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

/// <summary>
/// An audit event written in the same transaction as the change of state it records (a revocation, an admin change, a
/// SCIM write), so that either both are stored or neither is. The audit writer moves it into the hash chain
/// (<see cref="AuditRecord"/>) and deletes it, in one transaction.
/// </summary>
public sealed class AuditPendingRecord
{
    public long Id { get; set; }
    public DateTime OccurredAt { get; set; }

    /// <summary>The event as JSON (<see cref="Audit.AuditEvent"/>).</summary>
    public string Event { get; set; } = "";
}

/// <summary>
/// How far an audit stream has come: every row up to <see cref="DeliveredUpTo"/> was acknowledged by its destination,
/// and the batch up to <see cref="SendingUpTo"/> is being sent, unchanged, until it is. One node at a time holds the
/// stream's lease and sends.
/// </summary>
public sealed class AuditStreamRecord
{
    public string StreamId { get; set; } = "";
    public long DeliveredUpTo { get; set; }
    public long? SendingUpTo { get; set; }
    public int Attempts { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    public DateTime? LastDeliveredAt { get; set; }
    public string? LastError { get; set; }
}

/// <summary>
/// A signed checkpoint of the audit chain: the compact JWS that commits to the chain's head (its row, hash and the
/// number of rows up to it) and to the checkpoint before it. Append-only, like the rows it covers.
/// </summary>
public sealed class AuditCheckpointRecord
{
    public long Id { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>Rows from the first ever written up to and including <see cref="HeadId"/>, those since removed by retention included.</summary>
    public long Count { get; set; }

    public long HeadId { get; set; }
    public string HeadHash { get; set; } = "";

    /// <summary>The compact JWS (<c>typ</c> <c>audit-checkpoint+jwt</c>), exactly as published.</summary>
    public string Token { get; set; } = "";
}

/// <summary>
/// A user as the organization's SCIM client provisioned it. Its id is the internal user's id (<see cref="UserRecord"/>),
/// so a SCIM id, a token's <c>sub</c> and an audit row's user are the same UUID.
/// </summary>
public sealed class DirectoryUserRecord
{
    public Guid UserId { get; set; }
    public string OrganizationId { get; set; } = "";
    public string UserName { get; set; } = "";

    /// <summary><c>userName</c> is not case-exact (RFC 7643 §4.1.1): its lowercase form is what is unique and searched.</summary>
    public string UserNameKey { get; set; } = "";

    public string? ExternalId { get; set; }
    public string? DisplayName { get; set; }
    public string? DisplayNameKey { get; set; }
    public bool Active { get; set; }

    /// <summary>The resource as JSON: every attribute the client wrote, in the schema's spelling; not id, meta or groups.</summary>
    public string Document { get; set; } = "{}";

    /// <summary>Bumped by every change; <c>meta.version</c> and the ETag are made from it.</summary>
    public long Version { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>
/// One value of a provisioned user's attribute, for filtering: <c>emails</c> #1's <c>type</c> is a row with
/// Attribute "emails", Ordinal 1, SubAttribute "type". Rebuilt from the document on every change.
/// </summary>
public sealed class DirectoryUserValueRecord
{
    public long Id { get; set; }
    public Guid UserId { get; set; }

    /// <summary>Lowercase; an extension attribute carries its schema URN (<c>urn:…:enterprise:2.0:user:department</c>).</summary>
    public string Attribute { get; set; } = "";

    /// <summary>Lowercase sub-attribute name, empty for a simple attribute.</summary>
    public string SubAttribute { get; set; } = "";

    /// <summary>Which value of a multi-valued attribute; 0 for a single-valued one.</summary>
    public int Ordinal { get; set; }

    /// <summary>The value as compared: lowercase unless the attribute is case-exact; booleans as true/false; times as UTC ISO 8601.</summary>
    public string Key { get; set; } = "";
}

/// <summary>A group as the organization's SCIM client provisioned it.</summary>
public sealed class DirectoryGroupRecord
{
    public Guid Id { get; set; }
    public string OrganizationId { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public string DisplayNameKey { get; set; } = "";
    public string? ExternalId { get; set; }
    public long Version { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>A user's membership of a group.</summary>
public sealed class DirectoryMemberRecord
{
    public Guid GroupId { get; set; }
    public Guid UserId { get; set; }
}

/// <summary>A bearer token of an organization's SCIM service. Only a hash of the token is stored.</summary>
public sealed class ScimTokenRecord
{
    /// <summary>Short public handle, shown by <c>tessera scim token list</c> and used to revoke.</summary>
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";

    /// <summary>SHA-256 of the token (base64url). Tokens are 256 random bits, so a fast hash is enough.</summary>
    public string Hash { get; set; } = "";

    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}

/// <summary>
/// Something others must hear about (a session ended, an account disabled or enabled), written in the same transaction
/// as the change itself: the outbox. Its deliveries say who hears it and whether they have.
/// </summary>
public sealed class SignalEventRecord
{
    public long Id { get; set; }

    /// <summary><c>session-revoked</c>, <c>account-disabled</c> or <c>account-enabled</c> (<see cref="Signals.SignalTypes"/>).</summary>
    public string Type { get; set; } = "";

    public Guid UserId { get; set; }
    public string OrganizationId { get; set; } = "";
    public string? SessionId { get; set; }

    /// <summary>CAEP <c>initiating_entity</c>: admin, user, policy or system.</summary>
    public string InitiatingEntity { get; set; } = "";

    public string Reason { get; set; } = "";
    public DateTime OccurredAt { get; set; }
}

/// <summary>One signal on its way to one destination (a client's back-channel logout URI, or a SET receiver).</summary>
public sealed class SignalDeliveryRecord
{
    public long Id { get; set; }
    public long EventId { get; set; }
    public SignalEventRecord? Event { get; set; }

    /// <summary><c>backchannel-logout</c>, <c>push</c> or <c>poll</c> (<see cref="Signals.SignalChannels"/>).</summary>
    public string Channel { get; set; } = "";

    /// <summary>The client id (back-channel logout) or the receiver id.</summary>
    public string Destination { get; set; } = "";

    /// <summary>The token's <c>jti</c>: the same on every attempt, so a receiver can tell a retry from a new signal.</summary>
    public string TokenId { get; set; } = "";

    public int Attempts { get; set; }
    public DateTime NextAttemptAt { get; set; }

    /// <summary>A node sending it holds it until then, so two nodes never send it at once.</summary>
    public DateTime? LeasedUntil { get; set; }

    /// <summary>Set once it is acknowledged, refused for good, or given up; null while it is still to be sent.</summary>
    public DateTime? CompletedAt { get; set; }

    /// <summary><c>delivered</c>, <c>refused</c> (the destination said 400) or <c>abandoned</c> (too old, or the destination is gone) once completed.</summary>
    public string? Outcome { get; set; }

    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// A resource of the managed configuration (added through the Admin API or the setup portal), compiled together with
/// the file's into one model. The document is the resource in the file's shape without its secrets; recoverable
/// secrets (an upstream client secret, an SP key, a receiver's Authorization) are ciphertext under the key-encryption
/// key, and a client's own secrets are kept only as hashes.
/// </summary>
public sealed class ManagedResourceRecord
{
    /// <summary><see cref="Hosting.ManagedKinds"/>: organization, connection, rule, client, trusted-issuer, exchange-policy, signal-receiver.</summary>
    public string Kind { get; set; } = "";

    public string Id { get; set; } = "";

    /// <summary>The organization a connection or rule belongs to.</summary>
    public string? OrganizationId { get; set; }

    public string Document { get; set; } = "{}";

    /// <summary>AES-256-GCM under the key-encryption key, bound to the kind and id: a JSON object of secret fields.</summary>
    public byte[]? ProtectedSecrets { get; set; }

    /// <summary><c>active</c>, or <c>draft</c> for a connection no test sign-in has passed yet (unused by real sign-ins).</summary>
    public string Status { get; set; } = "active";

    /// <summary>Bumped by every change; the ETag is made from it.</summary>
    public long Version { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>Who made the last change: an admin client id, or <c>portal:{organization}</c>.</summary>
    public string? UpdatedBy { get; set; }
}

/// <summary>
/// One row counting changes to the managed configuration. Every change increments it in its own transaction, which
/// serializes changes (a stale revision refuses the write) and tells every node to recompile.
/// </summary>
public sealed class ConfigurationRevisionRecord
{
    public int Id { get; set; }
    public long Revision { get; set; }
    public DateTime ChangedAt { get; set; }
}

/// <summary>A single-use link that opens the setup portal for one organization. Only the token's hash is stored.</summary>
public sealed class SetupLinkRecord
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string TokenHash { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public string? CreatedBy { get; set; }
}

/// <summary>A customer admin's session in the setup portal, bound to one organization. The browser holds a secret; its hash is stored.</summary>
public sealed class PortalSessionRecord
{
    public string Id { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string SetupLinkId { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? EndedAt { get; set; }
}

/// <summary>A test sign-in through a connection, started from the portal or the Admin API, and what it found.</summary>
public sealed class ConnectionTestRecord
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ConnectionId { get; set; } = "";

    /// <summary>The connection's version when the test started: a pass counts only for that version.</summary>
    public long ConnectionVersion { get; set; }

    /// <summary>The portal session that started it, if any: only that session may read it.</summary>
    public string? PortalSessionId { get; set; }

    public DateTime StartedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
    public bool? Passed { get; set; }

    /// <summary>JSON: what came back (claims or attributes), what the rules made of it, and each failed check with its hint.</summary>
    public string? Result { get; set; }
}

/// <summary>Where a user signed in, refreshed or exchanged from: what the anomaly rules compare the next request with.</summary>
public sealed class RiskObservationRecord
{
    public long Id { get; set; }
    public Guid UserId { get; set; }

    /// <summary><c>sign-in</c>, <c>refresh</c> or <c>exchange</c>.</summary>
    public string Kind { get; set; } = "";

    /// <summary>The SSO session a sign-in opened (or a token was granted under): where its tokens were issued to.</summary>
    public string? SessionId { get; set; }

    public string OrganizationId { get; set; } = "";
    public DateTime ObservedAt { get; set; }
    public string? IpAddress { get; set; }
    public string? Country { get; set; }
    public string? City { get; set; }
    public double? Latitude { get; set; }
    public double? Longitude { get; set; }
}

/// <summary>Failures counted against one key (an address or a client) in one minute, across every node.</summary>
public sealed class FailureCountRecord
{
    /// <summary><c>address:203.0.113.7</c>, <c>address:2001:db8:1:2::/64</c> or <c>client:{client_id}</c>.</summary>
    public string Key { get; set; } = "";

    /// <summary>The minute counted (its first instant).</summary>
    public DateTime WindowStart { get; set; }

    public int Count { get; set; }
}

/// <summary>A temporary lockout of an address or a client after a burst of failures; kept a day after it ends, to double the next.</summary>
public sealed class LockoutRecord
{
    public string Key { get; set; } = "";
    public DateTime LockedAt { get; set; }
    public DateTime Until { get; set; }

    /// <summary>Lockouts of this key in a row (each within a day of the one before); each lasts twice the one before.</summary>
    public int Strikes { get; set; }
}
