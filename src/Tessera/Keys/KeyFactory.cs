using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Keys;

/// <summary>Creates fresh key material and turns stored bytes back into keys.</summary>
public static class KeyFactory
{
    public const string EncryptionAlgorithm = SecurityAlgorithms.Aes256KW;

    /// <summary>Every (use, algorithm) pair Tessera keeps one live key for.</summary>
    public static readonly IReadOnlyList<(string Use, string Algorithm)> Kinds =
    [
        (ManagedKey.Signing, SecurityAlgorithms.EcdsaSha256),
        (ManagedKey.Signing, SecurityAlgorithms.RsaSha256),
        (ManagedKey.Encryption, EncryptionAlgorithm),
    ];

    public static byte[] Generate(string algorithm) => algorithm switch
    {
        SecurityAlgorithms.EcdsaSha256 => ExportEcdsa(),
        SecurityAlgorithms.RsaSha256 => ExportRsa(),
        EncryptionAlgorithm => RandomNumberGenerator.GetBytes(32),
        _ => throw new NotSupportedException($"Unsupported key algorithm '{algorithm}'."),
    };

    public static SecurityKey Load(string id, string algorithm, byte[] material)
    {
        SecurityKey key;
        switch (algorithm)
        {
            case SecurityAlgorithms.EcdsaSha256:
                var ecdsa = ECDsa.Create();
                ecdsa.ImportPkcs8PrivateKey(material, out _);
                key = new ECDsaSecurityKey(ecdsa);
                break;
            case SecurityAlgorithms.RsaSha256:
                var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(material, out _);
                key = new RsaSecurityKey(rsa);
                break;
            case EncryptionAlgorithm:
                key = new SymmetricSecurityKey(material);
                break;
            default:
                throw new NotSupportedException($"Unsupported key algorithm '{algorithm}'.");
        }

        key.KeyId = id;
        return key;
    }

    public static string NewKeyId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12));

    private static byte[] ExportEcdsa()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return ecdsa.ExportPkcs8PrivateKey();
    }

    private static byte[] ExportRsa()
    {
        using var rsa = RSA.Create(3072);
        return rsa.ExportPkcs8PrivateKey();
    }
}
