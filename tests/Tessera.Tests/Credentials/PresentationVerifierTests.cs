using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Credentials;
using Tessera.Tests.Infrastructure;
using static Tessera.Tests.Credentials.TestVerifierApp;

namespace Tessera.Tests.Credentials;

/// <summary>
/// OpenID4VP end to end with the library's holder as the wallet: an app asks for "over 21", the wallet presents a
/// credential Tessera issued (or one of a second, trusted issuer), and the app receives a token that discovery's JWKS
/// verifies and that carries only what was disclosed.
/// </summary>
public sealed class PresentationVerifierTests
{
    [Fact]
    public async Task An_app_learns_over_21_from_a_credential_Tessera_issued_and_nothing_else()
    {
        await using var server = await TesseraTestServer.StartAsync(Configure);
        var user = await CredentialIssuingTests.AddUserAsync(server);
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);
        var credential = await wallet.CredentialAsync(await CredentialIssuingTests.PreAuthorizedTokenAsync(server, user), "age");

        var created = await CreateAsync(http);
        var requestObject = await RequestObjectAsync(http, created);
        Assert.Equal(("vp_token", "direct_post"), (requestObject["response_type"]!.GetValue<string>(), requestObject["response_mode"]!.GetValue<string>()));
        Assert.Equal("redirect_uri:http://localhost/presentations/response", requestObject["client_id"]!.GetValue<string>());
        Assert.NotNull(requestObject["client_metadata"]!["vp_formats_supported"]!["dc+sd-jwt"]);
        var (status, answer) = await PostAsync(http, requestObject, VpToken(Answer(wallet, credential, requestObject)));
        Assert.True(status == 200, answer.ToJsonString());

        var (redeemed, result) = await RedeemAsync(http, created["request_id"]!.GetValue<string>(), ResponseCode(answer));
        Assert.True(redeemed == 200, result.ToJsonString());

        Assert.Equal("""{"age_over_21":true}""", result["claims"]!.ToJsonString());
        var token = await VerifyWithDiscoveryAsync(http, result["token"]!.GetValue<string>());
        Assert.True(token.GetPayloadValue<bool>("age_over_21"));
        Assert.Equal(["age_over_21", "aud", "exp", "iat", "iss", "jti", "sub"], token.Claims.Select(c => c.Type).Distinct().Order());
        Assert.Equal(result["sub"]!.GetValue<string>(), token.Subject);
        Assert.DoesNotContain(user.Id.ToString(), token.EncodedPayload, StringComparison.Ordinal);

        // Redeemed once: a second redemption finds nothing to take.
        Assert.Equal((400, "invalid_grant"), Error(await RedeemAsync(http, created["request_id"]!.GetValue<string>(), ResponseCode(answer))));

        var audit = await server.AuditAsync();
        Assert.Contains(audit, a => a.Event == AuditEvents.PresentationRequested && a.ClientId == TestConfiguration.WebClient);
        var verified = Assert.Single(audit, a => a.Event == AuditEvents.PresentationVerified);
        Assert.Contains("age_over_21", verified.Detail!, StringComparison.Ordinal);
        Assert.DoesNotContain("true", verified.Detail!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_credential_of_a_trusted_issuer_answers_cross_device_and_the_same_holder_is_the_same_subject_for_the_app()
    {
        await using var server = await TesseraTestServer.StartAsync(Configure);
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);
        var credential = DmvCredential(wallet);
        var subjects = new List<string>();

        for (var i = 0; i < 2; i++)
        {
            var created = await CreateAsync(http, redirectUri: null);
            var id = created["request_id"]!.GetValue<string>();
            Assert.Equal((400, "authorization_pending"), Error(await RedeemAsync(http, id, null)));
            var requestObject = await RequestObjectAsync(http, created);
            var (status, answer) = await PostAsync(http, requestObject, VpToken(Answer(wallet, credential, requestObject)));
            Assert.True(status == 200, answer.ToJsonString());
            Assert.False(answer.ContainsKey("redirect_uri")); // cross-device: the user is not sent anywhere

            var (redeemed, result) = await RedeemAsync(http, id, null);
            Assert.True(redeemed == 200, result.ToJsonString());
            var token = await VerifyWithDiscoveryAsync(http, result["token"]!.GetValue<string>());
            Assert.True(token.GetPayloadValue<bool>("age_over_21"));
            Assert.False(token.TryGetPayloadValue<object>("given_name", out _));
            subjects.Add(token.Subject);
        }

        Assert.Equal(subjects[0], subjects[1]);
    }

    /// <summary>Verifies as an app would, with nothing but discovery: the issuer and the JWKS it names.</summary>
    internal static async Task<JsonWebToken> VerifyWithDiscoveryAsync(HttpClient http, string token)
    {
        var discovery = JsonNode.Parse(await http.GetStringAsync(".well-known/openid-configuration"))!;
        var jwks = new JsonWebKeySet(await http.GetStringAsync(discovery["jwks_uri"]!.GetValue<string>()));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = discovery["issuer"]!.GetValue<string>(),
            ValidAudience = TestConfiguration.WebClient,
            IssuerSigningKeys = jwks.Keys,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        return (JsonWebToken)result.SecurityToken;
    }

    internal static (int, string) Error((int Status, JsonObject Body) response) => (response.Status, response.Body["error"]?.GetValue<string>() ?? response.Body.ToJsonString());
}
