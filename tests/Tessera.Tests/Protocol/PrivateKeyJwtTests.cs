using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Protocol;

/// <summary>RFC 7523 §2.2: a client authenticates with a JWT signed by a key registered in its configuration.</summary>
public sealed class PrivateKeyJwtTests : IAsyncLifetime
{
    private const string ClientId = "ledger-service";
    private readonly ECDsaSecurityKey _key = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "ledger-1" };
    private readonly ECDsaSecurityKey _otherKey = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "ledger-1" };
    private TesseraTestServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var publicJwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(_key.ECDsa.ExportParameters(false))) { KeyId = _key.KeyId });
        var jwks = System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { new { kty = publicJwk.Kty, crv = publicJwk.Crv, x = publicJwk.X, y = publicJwk.Y, kid = publicJwk.Kid, use = "sig", alg = "ES256" } } });
        _server = await TesseraTestServer.StartAsync(o => o.Clients.Add(new ClientOptions
        {
            ClientId = ClientId,
            Type = "confidential",
            Jwks = jwks,
            GrantTypes = ["client_credentials"],
            Scopes = ["post:ledger"],
            Audiences = ["https://ledger.internal"],
        }));
        _http = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private string Assertion(SecurityKey key, string? typ = "JWT", string audience = TesseraTestServer.Issuer + "/", DateTime? expires = null, string issuer = ClientId) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Expires = expires ?? DateTime.UtcNow.AddMinutes(2),
            IssuedAt = DateTime.UtcNow,
            NotBefore = DateTime.UtcNow,
            TokenType = typ,
            Claims = new Dictionary<string, object> { ["sub"] = issuer, ["jti"] = Guid.NewGuid().ToString() },
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
        });

    private Task<OauthResponse> TokenAsync(string assertion) => Oauth.TokenAsync(_http, new Dictionary<string, string>
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = ClientId,
        ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ["client_assertion"] = assertion,
    });

    [Theory]
    [InlineData("JWT")]
    [InlineData("client-authentication+jwt")]
    public async Task A_client_assertion_signed_with_the_registered_key_authenticates(string typ)
    {
        var response = await TokenAsync(Assertion(_key, typ));

        Assert.True(response.Status == 200, response.Json.ToString());
        Assert.Equal(ClientId, response.AccessToken.GetPayloadValue<string>("client_id"));
    }

    [Fact]
    public async Task An_assertion_for_the_token_endpoint_authenticates()
    {
        var response = await TokenAsync(Assertion(_key, audience: TesseraTestServer.Issuer + "/token"));

        Assert.True(response.Status == 200, response.Json.ToString());
    }

    [Fact]
    public async Task Discovery_lists_the_assertion_algorithms_for_every_endpoint_that_accepts_private_key_jwt()
    {
        using var discovery = System.Text.Json.JsonDocument.Parse(await _http.GetStringAsync(".well-known/openid-configuration"));
        foreach (var endpoint in new[] { "token_endpoint", "introspection_endpoint", "revocation_endpoint" })
        {
            Assert.Contains("private_key_jwt", discovery.RootElement.GetProperty(endpoint + "_auth_methods_supported").EnumerateArray().Select(m => m.GetString()));
            var algorithms = discovery.RootElement.GetProperty(endpoint + "_auth_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()).ToList();
            Assert.Contains("ES256", algorithms);
            Assert.DoesNotContain("none", algorithms);
            Assert.DoesNotContain(algorithms, a => a!.StartsWith("HS", StringComparison.Ordinal));
        }
    }

    public static TheoryData<string, string> Forgeries => new()
    {
        { "signed with another key under the same kid", "other-key" },
        { "expired", "expired" },
        { "for another audience", "audience" },
        { "issued by another client", "issuer" },
        { "replayed", "replay" },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_bad_client_assertion_is_invalid_client(string attack, string variant)
    {
        var assertion = variant switch
        {
            "other-key" => Assertion(_otherKey),
            "expired" => Assertion(_key, expires: DateTime.UtcNow.AddMinutes(-5)),
            "audience" => Assertion(_key, audience: "https://elsewhere.example"),
            "issuer" => Assertion(_key, issuer: TestConfiguration.ServiceClient),
            _ => Assertion(_key),
        };
        if (variant == "replay")
        {
            Assert.Equal(200, (await TokenAsync(assertion)).Status);
        }

        var response = await TokenAsync(assertion);

        Assert.True(response.Error == "invalid_client", $"{attack}: {response.Json}");
    }
}
