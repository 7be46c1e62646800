using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Tessera.Keys;

/// <summary>Data-protection keys (cookies, antiforgery) are stored encrypted under the same key-encryption key as signing keys.</summary>
public sealed class KeyEncryptionKeyXmlEncryptor(KeyEncryptionKey key) : IXmlEncryptor
{
    private const string Purpose = "data-protection";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var element = new XElement("encryptedKey", new XAttribute("alg", "A256GCM"), Convert.ToBase64String(key.Protect(plaintext, Purpose)));
        return new EncryptedXmlInfo(element, typeof(KeyEncryptionKeyXmlDecryptor));
    }

    internal static XElement Decrypt(KeyEncryptionKey key, XElement encryptedElement) =>
        XElement.Parse(System.Text.Encoding.UTF8.GetString(key.Unprotect(Convert.FromBase64String(encryptedElement.Value), Purpose)));
}

public sealed class KeyEncryptionKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) =>
        KeyEncryptionKeyXmlEncryptor.Decrypt(services.GetRequiredService<KeyEncryptionKey>(), encryptedElement);
}
