using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation.Tests.Infrastructure;

/// <summary>Compact JWS built from explicit header and payload JSON, so a test can say exactly what a token carries.</summary>
public static class TestJwt
{
    public static string Sign(JsonObject header, JsonObject payload, TestKey key)
    {
        header["alg"] ??= key.Alg;
        header["kid"] ??= key.Kid;
        var signingInput = Encode(header) + "." + Encode(payload);
        return signingInput + "." + Base64UrlEncoder.Encode(key.Sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>alg none: no signature at all (RFC 7519 §6).</summary>
    public static string Unsigned(JsonObject header, JsonObject payload)
    {
        header["alg"] = "none";
        return Encode(header) + "." + Encode(payload) + ".";
    }

    /// <summary>HS256 keyed with bytes the attacker knows (the public key): the classic algorithm confusion.</summary>
    public static string Hs256(JsonObject header, JsonObject payload, byte[] secret)
    {
        header["alg"] = "HS256";
        var signingInput = Encode(header) + "." + Encode(payload);
        return signingInput + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput)));
    }

    public static string Encode(JsonNode json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json.ToJsonString()));

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    public static JsonObject Copy(JsonObject json) => JsonNode.Parse(json.ToJsonString(JsonSerializerOptions.Default))!.AsObject();
}
