using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Tessera.Credentials.SdJwt;

/// <summary>
/// A hash algorithm named as in the IANA "Named Information Hash Algorithm" registry, the way <c>_sd_alg</c> names it
/// (RFC 9901 §4.1.1). Digests and <c>sd_hash</c> are base64url of the hash over the ASCII bytes of the encoded string.
/// </summary>
public sealed class DigestAlgorithm
{
    private DigestAlgorithm(string name, HashAlgorithmName hash)
    {
        Name = name;
        Hash = hash;
    }

    public static DigestAlgorithm Sha256 { get; } = new("sha-256", HashAlgorithmName.SHA256);

    public static DigestAlgorithm Sha384 { get; } = new("sha-384", HashAlgorithmName.SHA384);

    public static DigestAlgorithm Sha512 { get; } = new("sha-512", HashAlgorithmName.SHA512);

    public string Name { get; }

    internal HashAlgorithmName Hash { get; }

    /// <summary>The algorithm <paramref name="name"/> names, or null when it is not one this library computes.</summary>
    public static DigestAlgorithm? FromName(string? name) => name switch
    {
        "sha-256" => Sha256,
        "sha-384" => Sha384,
        "sha-512" => Sha512,
        _ => null,
    };

    /// <summary>base64url(hash(ASCII(<paramref name="encoded"/>))): the digest of a Disclosure (§4.2.3) or the sd_hash of an SD-JWT (§4.3.1).</summary>
    public string Digest(string encoded)
    {
        var bytes = Encoding.ASCII.GetBytes(encoded);
        var hash = Hash == HashAlgorithmName.SHA256 ? SHA256.HashData(bytes)
            : Hash == HashAlgorithmName.SHA384 ? SHA384.HashData(bytes)
            : SHA512.HashData(bytes);
        return Base64Url.EncodeToString(hash);
    }

    public override string ToString() => Name;
}
