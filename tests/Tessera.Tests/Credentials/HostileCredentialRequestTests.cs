using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Keys;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Credentials;

/// <summary>
/// Hostile requests to the credential issuer: each refused with OpenID4VCI's (or OAuth's) own error, none answered 5xx,
/// and none issuing a credential.
/// </summary>
public sealed class HostileCredentialRequestTests
{
    /// <summary>What a row gets to spoil: a fresh nonce, the wallet, a good access token.</summary>
    public sealed record Arrangement(TestWallet Wallet, string Nonce, string AccessToken, string Issuer, KeyRing Keys, Guid User)
    {
        /// <summary>A token the key ring signed for the user with the credential's scope, but for <paramref name="audience"/>.</summary>
        public string TokenFor(string? audience, string issuer) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            TokenType = "at+jwt",
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = User.ToString(), ["scope"] = "credential:age" },
            SigningCredentials = Keys.SigningCredentials(SecurityAlgorithms.EcdsaSha256),
        });
    }

    public static TheoryData<string, Func<Arrangement, (string? Token, string Body)>, int, string> CredentialRows => new()
    {
        { "no proof at all", a => (a.AccessToken, """{"credential_configuration_id":"age"}"""), 400, "invalid_proof" },
        { "two proofs at once", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce), a.Wallet.Proof(a.Nonce))), 400, "invalid_proof" },
        { "proof of another type", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce, type: "JWT"))), 400, "invalid_proof" },
        { "proof for another issuer", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce, audience: "https://evil.example"))), 400, "invalid_proof" },
        { "proof from an hour ago", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce, issuedAt: DateTimeOffset.UtcNow.AddHours(-1)))), 400, "invalid_proof" },
        { "proof from the future", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce, issuedAt: DateTimeOffset.UtcNow.AddHours(1)))), 400, "invalid_proof" },
        { "proof without a nonce", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce, withNonce: false))), 400, "invalid_proof" },
        { "proof with a nonce Tessera never made", a => (a.AccessToken, Body("age", a.Wallet.Proof("made-up-nonce"))), 400, "invalid_nonce" },
        { "proof signed by a key other than its jwk", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce, signWith: new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256))))), 400, "invalid_proof" },
        { "proof whose jwk carries the private key", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce, jwk: PrivateJwk(a.Wallet)))), 400, "invalid_proof" },
        { "proof keyed by a shared secret (HMAC)", a => (a.AccessToken, Body("age", a.Wallet.Proof(a.Nonce, jwk: new JsonObject { ["kty"] = "oct", ["k"] = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0" }, signWith: new SymmetricSecurityKey(Encoding.UTF8.GetBytes("secretsecretsecretsecretsecret!!")), algorithm: SecurityAlgorithms.HmacSha256))), 400, "invalid_proof" },
        { "proof with alg none", a => (a.AccessToken, Body("age", Unsigned(a.Wallet.Proof(a.Nonce)))), 400, "invalid_proof" },
        { "proof that is not a JWT", a => (a.AccessToken, Body("age", "not-a-jwt")), 400, "invalid_proof" },
        { "unknown credential configuration", a => (a.AccessToken, Body("passport", a.Wallet.Proof(a.Nonce))), 400, "unknown_credential_configuration" },
        { "credential identifier never issued", a => (a.AccessToken, """{"credential_identifier":"x"}"""), 400, "unknown_credential_identifier" },
        { "credential the token's scope does not cover", a => (a.AccessToken, Body("employee", a.Wallet.Proof(a.Nonce))), 403, "insufficient_scope" },
        { "body that is not JSON", a => (a.AccessToken, "{{{"), 400, "invalid_credential_request" },
        { "body nested beyond reason", a => (a.AccessToken, new string('[', 5000) + new string(']', 5000)), 400, "invalid_credential_request" },
        { "no access token", a => (null, Body("age", a.Wallet.Proof(a.Nonce))), 401, "" },
        { "access token that is not one", a => (a.AccessToken[..^4] + "AAAA", Body("age", a.Wallet.Proof(a.Nonce))), 401, "invalid_token" },
        { "Tessera access token for another audience (RFC 8707 resource)", a => (a.TokenFor("https://orders.internal", a.Issuer), Body("age", a.Wallet.Proof(a.Nonce))), 401, "invalid_token" },
        { "pre-authorized token for the old pre-authorized server audience", a => (a.TokenFor(a.Issuer + "credentials", a.Issuer + "credentials"), Body("age", a.Wallet.Proof(a.Nonce))), 401, "invalid_token" },
        { "access token with no audience at all", a => (a.TokenFor(null, a.Issuer), Body("age", a.Wallet.Proof(a.Nonce))), 401, "invalid_token" },
        { "a holder's proof as access token", a => (a.Wallet.Proof(a.Nonce), Body("age", a.Wallet.Proof(a.Nonce))), 401, "invalid_token" },
    };

    private static string Body(string configuration, params string[] proofs) => new JsonObject
    {
        ["credential_configuration_id"] = configuration,
        ["proofs"] = new JsonObject { ["jwt"] = new JsonArray([.. proofs.Select(p => JsonValue.Create(p))]) },
    }.ToJsonString();

    private static JsonObject PrivateJwk(TestWallet wallet)
    {
        var jwk = wallet.PublicJwk;
        jwk["d"] = Base64UrlEncoder.Encode(wallet.Key.ECDsa.ExportParameters(true).D!);
        return jwk;
    }

    private static string Unsigned(string jwt)
    {
        var parts = jwt.Split('.');
        var header = JsonNode.Parse(Base64UrlEncoder.Decode(parts[0]))!.AsObject();
        header["alg"] = "none";
        return Base64UrlEncoder.Encode(header.ToJsonString()) + "." + parts[1] + ".";
    }

    [Theory]
    [MemberData(nameof(CredentialRows))]
    public async Task A_hostile_credential_request_gets_its_protocol_error_and_no_credential(string attack, Func<Arrangement, (string? Token, string Body)> make, int status, string error)
    {
        await using var server = await TesseraTestServer.StartAsync(CredentialIssuingTests.Configure);
        var user = await CredentialIssuingTests.AddUserAsync(server);
        var token = await CredentialIssuingTests.PreAuthorizedTokenAsync(server, user);
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);
        var (bearer, body) = make(new Arrangement(wallet, await wallet.NonceAsync(), token, CredentialIssuingTests.Issuer, server.Keys, user.Id));

        using var request = new HttpRequestMessage(HttpMethod.Post, "credentials/credential") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == status, $"{attack}: {(int)response.StatusCode} {text}");
        if (error.Length > 0)
        {
            Assert.Equal(error, JsonNode.Parse(text)!["error"]!.GetValue<string>());
        }

        Assert.DoesNotContain("credentials", JsonNode.Parse(text.Length > 0 ? text : "{}")!.AsObject().Select(m => m.Key));
        Assert.Equal(0, await server.WithDbAsync(db => Task.FromResult(db.IssuedCredentials.Count())));
    }

    [Fact]
    public async Task A_nonce_serves_one_proof_only()
    {
        await using var server = await TesseraTestServer.StartAsync(CredentialIssuingTests.Configure);
        var token = await CredentialIssuingTests.PreAuthorizedTokenAsync(server, await CredentialIssuingTests.AddUserAsync(server));
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);
        var nonce = await wallet.NonceAsync();

        Assert.Equal(200, (await wallet.RequestAsync(token, TestWallet.Request("age", wallet.Proof(nonce)))).Status);
        var (status, body) = await wallet.RequestAsync(token, TestWallet.Request("age", wallet.Proof(nonce)));

        Assert.Equal((400, "invalid_nonce"), (status, body!["error"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Pre_authorized_codes_are_refused_when_replayed_guessed_wrong_or_sent_without_their_transaction_code()
    {
        await using var server = await TesseraTestServer.StartAsync(CredentialIssuingTests.Configure);
        var user = await CredentialIssuingTests.AddUserAsync(server);
        using var http = server.CreateClient();
        var offer = await CredentialIssuingTests.OfferAsync(server, user);
        var code = CredentialIssuingTests.Code(offer);
        var pin = offer["tx_code"]!.GetValue<string>();
        var wrong = pin == "000000" ? "111111" : "000000";

        Assert.Equal((400, "unsupported_grant_type"), Error(await CredentialIssuingTests.RedeemAsync(http, code, pin, grant: "authorization_code")));
        Assert.Equal((400, "invalid_request"), Error(await CredentialIssuingTests.RedeemAsync(http, null, pin)));
        Assert.Equal((400, "invalid_request"), Error(await CredentialIssuingTests.RedeemAsync(http, code, null)));
        Assert.Equal((400, "invalid_grant"), Error(await CredentialIssuingTests.RedeemAsync(http, "made-up-code", pin)));
        Assert.Equal((400, "invalid_grant"), Error(await CredentialIssuingTests.RedeemAsync(http, code, wrong)));
        Assert.Equal(200, (await CredentialIssuingTests.RedeemAsync(http, code, pin)).Status);
        Assert.Equal((400, "invalid_grant"), Error(await CredentialIssuingTests.RedeemAsync(http, code, pin))); // replayed

        var guessed = await CredentialIssuingTests.OfferAsync(server, user);
        for (var i = 0; i < 5; i++)
        {
            await CredentialIssuingTests.RedeemAsync(http, CredentialIssuingTests.Code(guessed), wrong);
        }

        // Five wrong guesses kill the code, even for the right transaction code.
        Assert.Equal((400, "invalid_grant"), Error(await CredentialIssuingTests.RedeemAsync(http, CredentialIssuingTests.Code(guessed), guessed["tx_code"]!.GetValue<string>())));
    }

    [Fact]
    public async Task A_user_cut_off_after_the_offer_gets_no_credential()
    {
        await using var server = await TesseraTestServer.StartAsync(CredentialIssuingTests.Configure);
        var user = await CredentialIssuingTests.AddUserAsync(server);
        var token = await CredentialIssuingTests.PreAuthorizedTokenAsync(server, user);
        await server.WithDbAsync(async db =>
        {
            var stored = await db.Users.FindAsync(user.Id);
            stored!.DisabledAt = DateTime.UtcNow;
            return await db.SaveChangesAsync();
        });
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);

        var (status, body) = await wallet.RequestAsync(token, TestWallet.Request("age", wallet.Proof(await wallet.NonceAsync())));

        Assert.Equal((401, "invalid_token"), (status, body!["error"]!.GetValue<string>()));
    }

    private static (int, string) Error((int Status, JsonObject? Body) response) => (response.Status, response.Body!["error"]!.GetValue<string>());
}
