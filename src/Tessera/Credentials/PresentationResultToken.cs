using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Keys;

namespace Tessera.Credentials;

/// <summary>
/// The JWT an app receives for a verified presentation: signed by the key ring (so discovery's JWKS verifies it),
/// <c>iss</c> Tessera, <c>aud</c> the app, <c>sub</c> the pairwise holder identifier, <c>iat</c>, <c>exp</c>,
/// <c>jti</c>, and the result claims: only what the holder disclosed in answer to the query, under the configured names.
/// </summary>
public sealed class PresentationResultToken(KeyRing keys, TesseraIssuer issuer, TimeProvider time)
{
    public const string Type = "JWT";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public (string Token, DateTimeOffset ExpiresAt) Create(ClientOptions client, string subject, JsonObject claims)
    {
        var now = time.GetUtcNow();
        var payload = new JsonObject
        {
            ["iss"] = issuer.Name,
            ["aud"] = client.ClientId,
            ["sub"] = subject,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + Lifetime).ToUnixTimeSeconds(),
            ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
        };
        foreach (var (name, value) in claims)
        {
            payload[name] = value?.DeepClone();
        }

        var algorithm = client.SigningAlgorithm is SecurityAlgorithms.RsaSha256 ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256;
        return (Handler.CreateToken(payload.ToJsonString(), keys.SigningCredentials(algorithm), new Dictionary<string, object> { ["typ"] = Type }), now + Lifetime);
    }
}
