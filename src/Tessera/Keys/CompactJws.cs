using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;

namespace Tessera.Keys;

/// <summary>
/// A signed JWT in compact serialization (RFC 7515 §7.1), byte for byte the one
/// <see cref="JsonWebTokenHandler.CreateToken(SecurityTokenDescriptor)"/> writes for a descriptor with an issuer, an
/// issued-at and an expiry time, a token type and claims whose values are strings or arrays of strings: the header
/// <c>{"alg","kid","typ"}</c>; the payload <c>{"iss","exp","iat"}</c> and then the claims in their order, with the
/// handler's JSON escaping; and an ES256 or RS256 signature over both. The handler makes a memory stream, a JSON writer,
/// a signature provider lookup and several copies for each token; this writes into one buffer per thread and signs with
/// the key's own algorithm object, as the handler's signature provider does. Any other key, algorithm or claim value
/// is left to the handler: <see cref="TryCreate"/> answers null.
/// </summary>
public static class CompactJws
{
    /// <summary>The token, or null when the credentials or a claim are not ones this writes.</summary>
    public static string? TryCreate(SigningCredentials credentials, string tokenType, string issuer, DateTime issuedAt, DateTime expires, Dictionary<string, object> claims)
    {
        if (!Signs(credentials))
        {
            return null;
        }

        foreach (var (name, value) in claims)
        {
            // The handler writes the issuer and times from the descriptor and drops claims of the same names.
            if (value is not (string or string[]) || name is JwtRegisteredClaimNames.Iss or JwtRegisteredClaimNames.Exp
                    or JwtRegisteredClaimNames.Iat or JwtRegisteredClaimNames.Nbf)
            {
                return null;
            }
        }

        // The handler's escaping, in the thread's scratch buffer: the header, then the payload after it.
        var writer = ScratchJson.StartRelaxed();
        writer.WriteStartObject();
        writer.WriteString(JwtHeaderParameterNames.Alg, credentials.Algorithm);
        if (credentials.Key.KeyId is { } kid)
        {
            writer.WriteString(JwtHeaderParameterNames.Kid, kid);
        }

        writer.WriteString(JwtHeaderParameterNames.Typ, tokenType);
        writer.WriteEndObject();
        writer.Flush();
        var headerLength = (int)writer.BytesCommitted; // Written is taken once, at the end: it may let go of a grown buffer

        writer.Reset();
        writer.WriteStartObject();
        writer.WriteString(JwtRegisteredClaimNames.Iss, issuer);
        writer.WriteNumber(JwtRegisteredClaimNames.Exp, EpochTime.GetIntDate(expires));
        writer.WriteNumber(JwtRegisteredClaimNames.Iat, EpochTime.GetIntDate(issuedAt));
        foreach (var (name, value) in claims)
        {
            if (value is string text)
            {
                writer.WriteString(name, text);
                continue;
            }

            writer.WriteStartArray(name);
            foreach (var item in (string[])value)
            {
                writer.WriteStringValue(item);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        var written = ScratchJson.Written(writer);
        var header = written[..headerLength];
        var payload = written[headerLength..];

        // header '.' payload, base64url: the signing input; then '.' and the signature.
        Span<byte> signature = stackalloc byte[512];
        var signingLength = Base64Url.GetEncodedLength(header.Length) + 1 + Base64Url.GetEncodedLength(payload.Length);
        var token = ArrayPool<byte>.Shared.Rent(signingLength + 1 + Base64Url.GetEncodedLength(signature.Length));
        try
        {
            var length = Base64Url.EncodeToUtf8(header, token);
            token[length++] = (byte)'.';
            length += Base64Url.EncodeToUtf8(payload, token.AsSpan(length));
            var signed = SignInto(credentials, token.AsSpan(0, length), signature);
            token[length++] = (byte)'.';
            length += Base64Url.EncodeToUtf8(signature[..signed], token.AsSpan(length));
            return Encoding.ASCII.GetString(token, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(token);
        }
    }

    /// <summary>ES256 with a P-256 key, or RS256 with an RSA key of 2048 to 4096 bits (the handler refuses shorter ones).</summary>
    private static bool Signs(SigningCredentials credentials) => (credentials.Algorithm, credentials.Key) switch
    {
        (SecurityAlgorithms.EcdsaSha256, ECDsaSecurityKey { ECDsa.KeySize: 256 }) => true,
        (SecurityAlgorithms.RsaSha256, RsaSecurityKey { Rsa.KeySize: >= 2048 and <= 4096 }) => true,
        _ => false,
    };

    /// <summary>The signature as JWS has it: IEEE P1363 r‖s for ES256 (RFC 7518 §3.4), PKCS #1 v1.5 for RS256.</summary>
    private static int SignInto(SigningCredentials credentials, ReadOnlySpan<byte> input, Span<byte> signature)
    {
        var signed = credentials.Key is ECDsaSecurityKey ecdsa
            ? ecdsa.ECDsa.TrySignData(input, signature, HashAlgorithmName.SHA256, out var written)
            : ((RsaSecurityKey)credentials.Key).Rsa.TrySignData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, out written);
        return signed ? written : throw new CryptographicException($"The {credentials.Algorithm} signature did not fit its buffer.");
    }
}
