using System.Security.Cryptography;

using Tessera.Saml;

namespace Tessera.Saml.Tests.Infrastructure;

/// <summary>
/// ECDSA-SHA256 for XML Signature (RFC 4051 §2.3.6), so the test IdP can sign with SignedXml: the signature value
/// is r || s, which is what .NET's ECDsa produces by default. SignedXml has none built in; it is registered once.
/// </summary>
public sealed class EcdsaSha256SignatureDescription : SignatureDescription
{
    private static readonly Lock Gate = new();
    private static bool _registered;

    public EcdsaSha256SignatureDescription()
    {
        KeyAlgorithm = typeof(ECDsa).AssemblyQualifiedName;
        DigestAlgorithm = typeof(SHA256).AssemblyQualifiedName;
    }

    public static void Register()
    {
        lock (Gate)
        {
            if (!_registered)
            {
                CryptoConfig.AddAlgorithm(typeof(EcdsaSha256SignatureDescription), SamlNames.EcdsaSha256);
                _registered = true;
            }
        }
    }

    public override HashAlgorithm CreateDigest() => SHA256.Create();

    public override AsymmetricSignatureDeformatter CreateDeformatter(AsymmetricAlgorithm key) => new Deformatter(key);

    public override AsymmetricSignatureFormatter CreateFormatter(AsymmetricAlgorithm key) => new Formatter(key);

    private sealed class Deformatter(AsymmetricAlgorithm key) : AsymmetricSignatureDeformatter
    {
        private AsymmetricAlgorithm _key = key;

        public override void SetKey(AsymmetricAlgorithm key) => _key = key;

        public override void SetHashAlgorithm(string strName)
        {
        }

        public override bool VerifySignature(byte[] rgbHash, byte[] rgbSignature) =>
            _key is ECDsa ecdsa ? ecdsa.VerifyHash(rgbHash, rgbSignature) : throw new CryptographicException("An ECDSA signature needs an ECDSA key.");
    }

    private sealed class Formatter(AsymmetricAlgorithm key) : AsymmetricSignatureFormatter
    {
        private AsymmetricAlgorithm _key = key;

        public override void SetKey(AsymmetricAlgorithm key) => _key = key;

        public override void SetHashAlgorithm(string strName)
        {
        }

        public override byte[] CreateSignature(byte[] rgbHash) =>
            _key is ECDsa ecdsa ? ecdsa.SignHash(rgbHash) : throw new CryptographicException("An ECDSA signature needs an ECDSA key.");
    }
}
