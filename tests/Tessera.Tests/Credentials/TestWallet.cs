using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials;
using Tessera.Credentials.SdJwt;

namespace Tessera.Tests.Credentials;

/// <summary>A holder with its own P-256 key: asks the nonce endpoint, writes proofs, asks for credentials, presents them.</summary>
public sealed class TestWallet(HttpClient http, string credentialIssuer) : IDisposable
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public ECDsaSecurityKey Key { get; } = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)); // no kid: a proof names its key by jwk alone

    public JsonObject PublicJwk => Tessera.Credentials.PublicJwk.From(Key)!;

    public async Task<string> NonceAsync()
    {
        using var response = await http.PostAsync("credentials/nonce", null);
        Assert.Equal(200, (int)response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["c_nonce"]!.GetValue<string>();
    }

    /// <summary>A proof of possession (OpenID4VCI Appendix F.1); each part can be spoiled for a hostile row.</summary>
    public string Proof(string nonce, string? audience = null, string type = ProofOfPossession.Type, DateTimeOffset? issuedAt = null, SecurityKey? signWith = null,
        JsonObject? jwk = null, bool withNonce = true, string algorithm = SecurityAlgorithms.EcdsaSha256)
    {
        var claims = new Dictionary<string, object>
        {
            ["aud"] = audience ?? credentialIssuer,
            ["iat"] = (issuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
        };
        if (withNonce)
        {
            claims["nonce"] = nonce;
        }

        var header = new Dictionary<string, object> { ["typ"] = type, ["jwk"] = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, object>>((jwk ?? PublicJwk).ToJsonString())! };
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            AdditionalHeaderClaims = header,
            SigningCredentials = new SigningCredentials(signWith ?? Key, algorithm),
        });
    }

    public async Task<(int Status, JsonObject? Body)> RequestAsync(string accessToken, JsonObject body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "credentials/credential") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null);
    }

    public async Task<string> CredentialAsync(string accessToken, string configuration)
    {
        var (status, body) = await RequestAsync(accessToken, Request(configuration, Proof(await NonceAsync())));
        Assert.True(status == 200, body?.ToJsonString());
        return body!["credentials"]![0]!["credential"]!.GetValue<string>();
    }

    public static JsonObject Request(string configuration, string proof) => new()
    {
        ["credential_configuration_id"] = configuration,
        ["proofs"] = new JsonObject { ["jwt"] = new JsonArray(proof) },
    };

    /// <summary>The credential with only the disclosures of <paramref name="paths"/>, bound to <paramref name="audience"/> and <paramref name="nonce"/>.</summary>
    public string Present(string credential, IEnumerable<ClaimPath> paths, string audience, string nonce)
    {
        var held = SdJwtHolder.Read(credential).Value!;
        var disclosures = held.DisclosuresFor(paths).Value!;
        return new SdJwtHolder(TimeProvider.System).Present(held, disclosures, new KeyBindingRequest(audience, nonce, new SigningCredentials(Key, SecurityAlgorithms.EcdsaSha256)));
    }

    public void Dispose() => Key.ECDsa.Dispose();
}
