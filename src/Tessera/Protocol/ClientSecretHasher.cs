using System.Runtime.InteropServices;
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

    /// <summary>
    /// Whether <paramref name="comparand"/> is <see cref="FastHash"/> of <paramref name="secret"/>, compared in constant
    /// time. The hash is written on the stack, since this runs on every token request of a client.
    /// </summary>
    public static bool VerifyFastHash(string secret, string comparand)
    {
        const int OnStack = 256;
        var length = Encoding.UTF8.GetByteCount(secret);
        Span<byte> utf8 = length <= OnStack ? stackalloc byte[OnStack] : new byte[length];
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(secret, utf8)], digest);
        Span<char> actual = stackalloc char[HashPrefix.Length + 44];
        HashPrefix.CopyTo(actual);
        Convert.TryToBase64Chars(digest, actual[HashPrefix.Length..], out _);
        return CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(comparand.AsSpan()), MemoryMarshal.AsBytes<char>(actual));
    }
}
