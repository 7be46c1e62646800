using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml;

namespace Tessera.Saml;

/// <summary>
/// Opens an EncryptedAssertion with the service provider's key (XML Encryption 1.1): RSA-OAEP key transport,
/// AES-GCM or AES-CBC content. RSA PKCS#1 v1.5 key transport is refused. Every failure reads the same to the
/// sender, so the answer is no oracle for the padding or the key.
/// </summary>
public static class AssertionDecryptor
{
    private const string CannotDecrypt = "The encrypted assertion could not be decrypted with this connection's key.";

    public static (XmlElement? Assertion, SamlFailure? Failure) Decrypt(XmlElement encryptedAssertion, X509Certificate2? certificate, int maxCharacters)
    {
        using var rsa = certificate?.GetRSAPrivateKey();
        if (rsa is null)
        {
            return (null, new SamlFailure(SamlRules.Decryption, "The assertion is encrypted but this connection has no decryption key."));
        }

        var encryptedData = encryptedAssertion.Children("EncryptedData", SamlNames.XmlEnc).ToList();
        if (encryptedData.Count != 1)
        {
            return (null, new SamlFailure(SamlRules.Decryption, "The encrypted assertion must hold exactly one EncryptedData."));
        }

        var data = encryptedData[0];
        var contentAlgorithm = data.Child("EncryptionMethod", SamlNames.XmlEnc)?.GetAttribute("Algorithm");
        var encryptedKey = data.Child("KeyInfo", SamlNames.XmlDsig)?.Child("EncryptedKey", SamlNames.XmlEnc)
            ?? encryptedAssertion.Child("EncryptedKey", SamlNames.XmlEnc);
        if (encryptedKey is null)
        {
            return (null, new SamlFailure(SamlRules.Decryption, "The encrypted assertion carries no encrypted key."));
        }

        var keyMethod = encryptedKey.Child("EncryptionMethod", SamlNames.XmlEnc);
        var padding = KeyTransportPadding(keyMethod);
        if (padding is null)
        {
            return (null, new SamlFailure(SamlRules.Decryption,
                keyMethod?.GetAttribute("Algorithm") == SamlNames.Rsa15 ? "RSA PKCS#1 v1.5 key transport is refused; use RSA-OAEP." : "The key transport algorithm is not supported."));
        }

        var keySize = ContentKeySize(contentAlgorithm);
        if (keySize == 0)
        {
            return (null, new SamlFailure(SamlRules.Decryption, "The content encryption algorithm is not supported."));
        }

        try
        {
            var key = rsa.Decrypt(CipherValue(encryptedKey), padding);
            var cipher = CipherValue(data);
            var plaintext = key.Length != keySize ? null
                : IsGcm(contentAlgorithm!) ? DecryptGcm(key, cipher) : DecryptCbc(key, cipher);
            CryptographicOperations.ZeroMemory(key);
            if (plaintext is null)
            {
                return (null, new SamlFailure(SamlRules.Decryption, CannotDecrypt));
            }

            var element = SecureXml.LoadFragment(System.Text.Encoding.UTF8.GetString(plaintext), encryptedAssertion, maxCharacters);
            return element is { LocalName: "Assertion", NamespaceURI: SamlNames.Assertion }
                ? (element, null)
                : (null, new SamlFailure(SamlRules.Decryption, "The encrypted content is not an assertion."));
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException or XmlException)
        {
            return (null, new SamlFailure(SamlRules.Decryption, CannotDecrypt));
        }
    }

    private static RSAEncryptionPadding? KeyTransportPadding(XmlElement? method)
    {
        var algorithm = method?.GetAttribute("Algorithm");
        var digest = method?.Child("DigestMethod", SamlNames.XmlDsig)?.GetAttribute("Algorithm") ?? SamlNames.Sha1;
        var mgf = method?.Child("MGF", SamlNames.XmlEnc11)?.GetAttribute("Algorithm") ?? SamlNames.Mgf1Sha1;
        return (algorithm, digest, mgf) switch
        {
            (SamlNames.RsaOaepMgf1p, SamlNames.Sha1, _) => RSAEncryptionPadding.OaepSHA1,
            (SamlNames.RsaOaep, SamlNames.Sha1, SamlNames.Mgf1Sha1) => RSAEncryptionPadding.OaepSHA1,
            (SamlNames.RsaOaep, SamlNames.Sha256, SamlNames.Mgf1Sha256) => RSAEncryptionPadding.OaepSHA256,
            _ => null,
        };
    }

    private static int ContentKeySize(string? algorithm) => algorithm switch
    {
        SamlNames.Aes128Cbc or SamlNames.Aes128Gcm => 16,
        SamlNames.Aes192Cbc or SamlNames.Aes192Gcm => 24,
        SamlNames.Aes256Cbc or SamlNames.Aes256Gcm => 32,
        _ => 0,
    };

    private static bool IsGcm(string algorithm) => algorithm.StartsWith(SamlNames.XmlEnc11, StringComparison.Ordinal);

    private static byte[] CipherValue(XmlElement encrypted) =>
        Convert.FromBase64String(encrypted.Child("CipherData", SamlNames.XmlEnc)?.Child("CipherValue", SamlNames.XmlEnc)?.InnerText.Trim()
            ?? throw new FormatException("No cipher value."));

    /// <summary>XML Encryption 1.1 §5.2.4: a 96-bit IV, then the ciphertext, then a 128-bit tag.</summary>
    private static byte[]? DecryptGcm(byte[] key, byte[] cipher)
    {
        if (cipher.Length < 12 + 16)
        {
            return null;
        }

        var plaintext = new byte[cipher.Length - 28];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(cipher.AsSpan(0, 12), cipher.AsSpan(12, plaintext.Length), cipher.AsSpan(cipher.Length - 16), plaintext);
        return plaintext;
    }

    /// <summary>XML Encryption §5.2: a 128-bit IV, then the ciphertext with ISO 10126 padding (last byte = pad length).</summary>
    private static byte[]? DecryptCbc(byte[] key, byte[] cipher)
    {
        if (cipher.Length < 32 || cipher.Length % 16 != 0)
        {
            return null;
        }

        using var aes = Aes.Create();
        aes.Key = key;
        var padded = aes.DecryptCbc(cipher.AsSpan(16), cipher.AsSpan(0, 16), PaddingMode.None);
        var pad = padded[^1];
        return pad is < 1 or > 16 ? null : padded[..^pad];
    }
}
