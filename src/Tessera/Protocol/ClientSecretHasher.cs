using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Protocol;

/// <summary>
/// Secrets Tessera generates carry 256 random bits, so a single SHA-256 protects them as well as a slow hash
/// would, at a fraction of the cost on every token request. Anything else keeps OpenIddict's PBKDF2.
/// </summary>
public static class ClientSecretHasher
{
    public const string GeneratedPrefix = "tsec_";
    private const string HashPrefix = "sha256:";

    /// <summary>A new client secret: the prefix and 32 random bytes, base64url (43 characters).</summary>
    public static string Generate() => GeneratedPrefix + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static bool IsGenerated(string secret) =>
        secret.Length == GeneratedPrefix.Length + 43 && secret.StartsWith(GeneratedPrefix, StringComparison.Ordinal)
        && secret.AsSpan(GeneratedPrefix.Length).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    public static bool IsFastHash(string comparand) => comparand.StartsWith(HashPrefix, StringComparison.Ordinal);

    /// <summary>Whether a value is a stored fast hash (the prefix and 32 bytes of base64), not a secret.</summary>
    public static bool IsFastHashFormat(string value)
    {
        Span<byte> digest = stackalloc byte[33];
        return value.Length == HashPrefix.Length + 44 && IsFastHash(value)
            && Convert.TryFromBase64String(value[HashPrefix.Length..], digest, out var written) && written == 32;
    }

    public static string FastHash(string secret) => HashPrefix + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool VerifyFastHash(string secret, string comparand)
    {
        var expected = Encoding.ASCII.GetBytes(comparand);
        var actual = Encoding.ASCII.GetBytes(FastHash(secret));
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}
