using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation.Tests.Infrastructure;

/// <summary>A signing key made in-process: ES256 (P-256) or RS256 (RSA-2048), with its public JWK.</summary>
public sealed class TestKey : IDisposable
{
    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;

    private TestKey(string kid, string alg, ECDsa? ec, RSA? rsa)
    {
        Kid = kid;
        Alg = alg;
        _ec = ec;
        _rsa = rsa;
    }

    public string Kid { get; }

    public string Alg { get; }

    public static TestKey Es256(string kid) => new(kid, "ES256", ECDsa.Create(ECCurve.NamedCurves.nistP256), null);

    public static TestKey Rs256(string kid) => new(kid, "RS256", null, RSA.Create(2048));

    public byte[] Sign(byte[] data) => _ec is not null
        ? _ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        : _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The public key only, as Tessera's JWKS publishes it (RFC 7517 §4, RFC 7518 §6).</summary>
    public JsonObject PublicJwk()
    {
        var jwk = new JsonObject { ["kid"] = Kid, ["use"] = "sig", ["alg"] = Alg };
        if (_ec is not null)
        {
            var parameters = _ec.ExportParameters(false);
            jwk["kty"] = "EC";
            jwk["crv"] = "P-256";
            jwk["x"] = Base64UrlEncoder.Encode(parameters.Q.X!);
            jwk["y"] = Base64UrlEncoder.Encode(parameters.Q.Y!);
        }
        else
        {
            var parameters = _rsa!.ExportParameters(false);
            jwk["kty"] = "RSA";
            jwk["n"] = Base64UrlEncoder.Encode(parameters.Modulus!);
            jwk["e"] = Base64UrlEncoder.Encode(parameters.Exponent!);
        }

        return jwk;
    }

    /// <summary>The bytes an attacker would use as an HMAC secret: the published public key.</summary>
    public byte[] PublicKeyBytes() => Encoding.UTF8.GetBytes(PublicJwk().ToJsonString());

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }
}
