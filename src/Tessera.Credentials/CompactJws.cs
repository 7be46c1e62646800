using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials;

/// <summary>
/// Every JWS this library signs or checks goes through here, and through Microsoft.IdentityModel: reading, signing and
/// signature verification are never done by hand. Only keys the caller supplies are used; <c>jwk</c>, <c>jku</c>,
/// <c>x5u</c> and <c>x5c</c> headers are not honored.
/// </summary>
internal static class CompactJws
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Reads a compact JWS without checking it; null when it is not one (or is a JWE).</summary>
    public static JsonWebToken? Read(string compact)
    {
        if (compact.Count(c => c == '.') != 2)
        {
            return null;
        }

        try
        {
            return Handler.ReadJsonWebToken(compact);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The payload as a JSON object, parsed strictly (no duplicate members); null when it is not one.</summary>
    public static JsonObject? Payload(JsonWebToken token)
    {
        try
        {
            var bytes = Base64Url.DecodeFromChars(token.EncodedPayload);
            return JsonNode.Parse(Encoding.UTF8.GetString(bytes), documentOptions: StrictJson.Options) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>True when the header's <c>alg</c> is one of <paramref name="allowed"/>; <c>none</c> never is.</summary>
    public static bool AlgorithmAllowed(JsonWebToken token, IReadOnlyCollection<string> allowed) =>
        !string.IsNullOrEmpty(token.Alg) && token.Alg != "none" && allowed.Contains(token.Alg, StringComparer.Ordinal);

    /// <summary>Checks the signature with the given keys only, for a token whose <c>typ</c> is <paramref name="type"/>.</summary>
    public static async Task<bool> SignatureValidAsync(string compact, IEnumerable<SecurityKey> keys, IReadOnlyCollection<string> algorithms, string type)
    {
        var parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidAlgorithms = algorithms.Where(a => a != "none").ToArray(),
            ValidTypes = [type],
            TryAllIssuerSigningKeys = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            // Claims are checked by the callers, each against its own specification.
            ValidateTokenReplay = false,
        };

        try
        {
            var result = await Handler.ValidateTokenAsync(compact, parameters).ConfigureAwait(false);
            return result.IsValid;
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return false;
        }
    }

    /// <summary>Signs <paramref name="payload"/> as a compact JWS with the given <c>typ</c>; the payload is written as is.</summary>
    public static string Sign(JsonObject payload, SigningCredentials credentials, string type) =>
        Handler.CreateToken(payload.ToJsonString(), credentials, new Dictionary<string, object> { [JwtHeaderParameterNames.Typ] = type });

    /// <summary>A NumericDate claim (RFC 7519 §2) as seconds, or null when absent; false when present but not a number.</summary>
    public static bool TryReadNumericDate(JsonObject claims, string name, out long? seconds)
    {
        seconds = null;
        if (!claims.TryGetPropertyValue(name, out var node) || node is null)
        {
            return !claims.ContainsKey(name);
        }

        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number)
        {
            if (value.TryGetValue<long>(out var whole))
            {
                seconds = whole;
                return true;
            }

            if (value.TryGetValue<double>(out var fractional) && double.IsFinite(fractional) && Math.Abs(fractional) < 1e15)
            {
                seconds = (long)Math.Floor(fractional);
                return true;
            }
        }

        return false;
    }

    /// <summary>A NumericDate as a time, clamped to what <see cref="DateTimeOffset"/> can hold (a hostile value never throws).</summary>
    public static DateTimeOffset ToTime(long seconds) =>
        DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, DateTimeOffset.MinValue.ToUnixTimeSeconds(), DateTimeOffset.MaxValue.ToUnixTimeSeconds()));

    /// <summary>A string member, or null when absent or not a string.</summary>
    public static string? ReadString(JsonObject claims, string name) =>
        claims.TryGetPropertyValue(name, out var node) && node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
