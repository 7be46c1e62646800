using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Audit;

/// <summary>
/// A signed head of the audit chain, in the spirit of a signed tree head (RFC 9162 §4.10): who signed it, when, how
/// many rows the chain held up to its head, the head row and its hash, and the hash of the checkpoint before it, so
/// checkpoints form a chain of their own and one signature that still verifies vouches for every checkpoint before it.
/// </summary>
public sealed record AuditCheckpoint(string Token, string Issuer, DateTimeOffset IssuedAt, long Count, long HeadId, string HeadHash, string PreviousCheckpoint)
{
    /// <summary>The JWS <c>typ</c> (RFC 8725 §3.11: explicit typing, so no other JWT Tessera signs passes for one).</summary>
    public const string TokenType = "audit-checkpoint+jwt";

    /// <summary>RFC 7515 §4.1.9: the media type that <c>typ</c> abbreviates; the body of <c>/audit/checkpoints/latest</c>.</summary>
    public const string MediaType = "application/" + TokenType;

    public const string CountClaim = "count";
    public const string HeadIdClaim = "head_id";
    public const string HeadHashClaim = "head_hash";
    public const string PreviousCheckpointClaim = "previous_checkpoint";

    /// <summary>What <c>previous_checkpoint</c> of the first checkpoint holds.</summary>
    public const string Genesis = AuditChain.Genesis;

    /// <summary>The value the next checkpoint's <c>previous_checkpoint</c> carries: SHA-256 of this compact JWS, lowercase hex.</summary>
    public string Hash => HashOf(Token);

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    /// <summary>The claims of a parsed JWS (whose signature is checked elsewhere), or why they are not a checkpoint's.</summary>
    public static AuditCheckpoint? FromToken(JsonWebToken jwt, string token, out string? problem)
    {
        problem = null;
        if (!jwt.TryGetPayloadValue<long>(CountClaim, out var count) || count < 1)
        {
            problem = $"'{CountClaim}' is not a positive number";
        }
        else if (!jwt.TryGetPayloadValue<long>(HeadIdClaim, out var headId) || headId < 1)
        {
            problem = $"'{HeadIdClaim}' is not a positive number";
        }
        else if (!jwt.TryGetPayloadValue<string>(HeadHashClaim, out var headHash) || !IsHash(headHash))
        {
            problem = $"'{HeadHashClaim}' is not a SHA-256 hash in hex";
        }
        else if (!jwt.TryGetPayloadValue<string>(PreviousCheckpointClaim, out var previous) || !IsHash(previous))
        {
            problem = $"'{PreviousCheckpointClaim}' is not a SHA-256 hash in hex";
        }
        else if (!jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Iat, out var issuedAt))
        {
            problem = "'iat' is missing";
        }
        else
        {
            return new AuditCheckpoint(token, jwt.Issuer, DateTimeOffset.FromUnixTimeSeconds(issuedAt), count, headId, headHash, previous);
        }

        return null;
    }

    /// <summary>Signs a checkpoint with <paramref name="credentials"/> (ES256 from the key ring).</summary>
    public static string Sign(string issuer, DateTimeOffset issuedAt, long count, long headId, string headHash, string previousCheckpoint, SigningCredentials credentials) =>
        Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            IssuedAt = issuedAt.UtcDateTime,
            TokenType = TokenType,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [CountClaim] = count,
                [HeadIdClaim] = headId,
                [HeadHashClaim] = headHash,
                [PreviousCheckpointClaim] = previousCheckpoint,
            },
            SigningCredentials = credentials,
        });

    // A checkpoint is a statement about the past: it has no expiry or not-before.
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private static bool IsHash(string? value) => value is { Length: 64 } && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
