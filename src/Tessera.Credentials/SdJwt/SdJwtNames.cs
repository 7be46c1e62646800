namespace Tessera.Credentials.SdJwt;

/// <summary>The names RFC 9901 reserves in payloads, headers and the compact serialization.</summary>
public static class SdJwtNames
{
    /// <summary>The array of digests of an object's selectively disclosable claims (§4.2.4.1).</summary>
    public const string Digests = "_sd";

    /// <summary>The hash algorithm of every digest in the SD-JWT (§4.1.1).</summary>
    public const string DigestAlgorithm = "_sd_alg";

    /// <summary>The key of the object that stands for a selectively disclosable array element (§4.2.4.2).</summary>
    public const string ArrayElementDigest = "...";

    /// <summary>The holder's key (RFC 7800), against which the key-binding JWT is checked.</summary>
    public const string Confirmation = "cnf";

    public const string SdHash = "sd_hash";

    /// <summary>The separator of the compact serialization (§4).</summary>
    public const char Separator = '~';

    /// <summary>The media type of a key-binding JWT, as its <c>typ</c> header (§4.3).</summary>
    public const string KeyBindingType = "kb+jwt";
}
