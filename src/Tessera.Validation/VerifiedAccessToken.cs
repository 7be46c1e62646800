using System.Security.Claims;

namespace Tessera.Validation;

/// <summary>What the cache and the revocation rules need to know of a locally verified access token.</summary>
internal sealed record VerifiedAccessToken(ClaimsPrincipal Principal, string Subject, string? SessionId, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);
