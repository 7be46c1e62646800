using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tessera.Saml;

/// <summary>
/// A certificate's SHA-256 fingerprint as IdP admin consoles show it (upper-case hex pairs joined by colons), so an
/// administrator can compare what Tessera trusts with what their IdP signs with at a glance.
/// </summary>
public static class CertificateFingerprint
{
    public static string Sha256(X509Certificate2 certificate) => Format(certificate.GetCertHash(HashAlgorithmName.SHA256));

    /// <summary>The fingerprint of a certificate's DER encoding, without parsing it.</summary>
    public static string Sha256(ReadOnlySpan<byte> der) => Format(SHA256.HashData(der));

    private static string Format(byte[] hash) => string.Join(':', Convert.ToHexString(hash).Chunk(2).Select(pair => new string(pair)));
}
