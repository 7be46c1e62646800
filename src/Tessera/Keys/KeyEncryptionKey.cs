using System.Security.Cryptography;

namespace Tessera.Keys;

/// <summary>
/// The key-encryption key from configuration. Private keys are stored only as AES-256-GCM ciphertext under it,
/// with the key id as associated data so a ciphertext cannot be moved to another row.
/// </summary>
public sealed class KeyEncryptionKey
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    private KeyEncryptionKey(byte[] key) => _key = key;

    public static bool TryParse(string? value, out KeyEncryptionKey? key)
    {
        key = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var buffer = new byte[64];
        if (!Convert.TryFromBase64String(value.Trim(), buffer, out var written) || written != 32)
        {
            return false;
        }

        key = new KeyEncryptionKey(buffer[..32]);
        return true;
    }

    public static KeyEncryptionKey Parse(string value) =>
        TryParse(value, out var key) ? key! : throw new FormatException("The key-encryption key must be base64 of exactly 32 bytes.");

    public static string Generate() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public byte[] Protect(ReadOnlySpan<byte> plaintext, string keyId)
    {
        var output = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), System.Text.Encoding.UTF8.GetBytes(keyId));
        return output;
    }

    public byte[] Unprotect(ReadOnlySpan<byte> protectedData, string keyId)
    {
        if (protectedData.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The protected key is truncated.");
        }

        var plaintext = new byte[protectedData.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(protectedData[..NonceSize], protectedData[(NonceSize + TagSize)..], protectedData.Slice(NonceSize, TagSize), plaintext, System.Text.Encoding.UTF8.GetBytes(keyId));
        return plaintext;
    }
}
