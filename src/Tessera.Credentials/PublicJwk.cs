using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials;

/// <summary>
/// The public half of a key as a JWK object (RFC 7517), for the places a key is published or embedded: a credential's
/// <c>cnf</c> and the JWT VC issuer metadata. Private members never leave; symmetric keys have no public half.
/// </summary>
public static class PublicJwk
{
    /// <summary>The public JWK of an EC or RSA key, or null when the key is symmetric or of an unknown type.</summary>
    public static JsonObject? From(JsonWebKey key)
    {
        var jwk = new JsonObject { ["kty"] = key.Kty };
        switch (key.Kty)
        {
            case JsonWebAlgorithmsKeyTypes.EllipticCurve when !string.IsNullOrEmpty(key.Crv) && !string.IsNullOrEmpty(key.X) && !string.IsNullOrEmpty(key.Y):
                jwk["crv"] = key.Crv;
                jwk["x"] = key.X;
                jwk["y"] = key.Y;
                break;
            case JsonWebAlgorithmsKeyTypes.RSA when !string.IsNullOrEmpty(key.N) && !string.IsNullOrEmpty(key.E):
                jwk["n"] = key.N;
                jwk["e"] = key.E;
                break;
            default:
                return null;
        }

        if (!string.IsNullOrEmpty(key.Kid))
        {
            jwk["kid"] = key.Kid;
        }

        if (!string.IsNullOrEmpty(key.Alg))
        {
            jwk["alg"] = key.Alg;
        }

        return jwk;
    }

    /// <summary>The public JWK of an ECDsa or RSA security key (as <see cref="JsonWebKeyConverter"/> exports it).</summary>
    public static JsonObject? From(SecurityKey key) => key switch
    {
        JsonWebKey jwk => From(jwk),
        ECDsaSecurityKey or RsaSecurityKey or X509SecurityKey => From(JsonWebKeyConverter.ConvertFromSecurityKey(key)),
        _ => null,
    };

    /// <summary>
    /// Reads a JWK that must be a public EC or RSA key: one carrying private members (<c>d</c>, <c>p</c>, ...) or a
    /// symmetric secret is refused, so an embedded key can never turn a signature check into an HMAC check.
    /// </summary>
    public static JsonWebKey? Read(JsonNode? node)
    {
        if (node is not JsonObject jwk)
        {
            return null;
        }

        foreach (var privateMember in new[] { "d", "p", "q", "dp", "dq", "qi", "oth", "k" })
        {
            if (jwk.ContainsKey(privateMember))
            {
                return null;
            }
        }

        JsonWebKey key;
        try
        {
            key = new JsonWebKey(jwk.ToJsonString());
        }
        catch (ArgumentException)
        {
            return null;
        }

        return From(key) is null ? null : key;
    }
}
