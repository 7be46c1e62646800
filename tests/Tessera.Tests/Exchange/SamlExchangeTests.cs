using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Saml.Tests.Infrastructure;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Exchange;

/// <summary>
/// A SAML 2.0 assertion from a trusted SAML connection as the subject token (RFC 8693 <c>saml2</c>): verified by
/// Tessera.Saml against that connection's IdP, mapped to the same user a SAML sign-in makes, and used once.
/// </summary>
public sealed class SamlExchangeTests : IAsyncLifetime
{
    private const string Saml2 = "urn:ietf:params:oauth:token-type:saml2";
    private SamlSignIn _saml = null!;

    public async Task InitializeAsync() => _saml = await SamlSignIn.StartAsync(configure: options =>
    {
        options.Clients.Add(new ClientOptions
        {
            ClientId = ExchangeArrangement.Gateway,
            Type = "confidential",
            ClientSecret = ExchangeArrangement.Secret,
            GrantTypes = [ExchangeArrangement.Exchange],
            Scopes = ["doctor_access", "read:orders"],
            Audiences = [TestConfiguration.OrdersAudience],
        });
        options.ExchangePolicies.Add(new ExchangePolicyOptions
        {
            ClientId = ExchangeArrangement.Gateway,
            SubjectIssuers = [SamlSignIn.ConnectionId],
            Audiences = [TestConfiguration.OrdersAudience],
            Scopes = ["doctor_access", "read:orders"],
            Impersonation = true,
            JustInTimeUsers = true,
        });
    });

    public async Task DisposeAsync() => await _saml.DisposeAsync();

    /// <summary>The assertion of a response built from <paramref name="spec"/>, standing alone, signed, base64url.</summary>
    private static string Assertion(SamlResponseSpec? spec = null, X509Certificate2? signer = null, bool sign = true)
    {
        var response = TestSamlIdentityProvider.Build(spec ?? SamlSignIn.Spec(null));
        var document = new XmlDocument { PreserveWhitespace = true };
        document.AppendChild(document.ImportNode(TestSamlIdentityProvider.Assertion(response), deep: true));
        if (sign)
        {
            TestSamlIdentityProvider.Sign(document.DocumentElement!, signer);
        }

        return Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(document.OuterXml));
    }

    private Task<OauthResponse> ExchangeAsync(string assertion, string scope = "doctor_access read:orders") => Oauth.TokenAsync(_saml.Http, new Dictionary<string, string>
    {
        ["grant_type"] = ExchangeArrangement.Exchange,
        ["subject_token"] = assertion,
        ["subject_token_type"] = Saml2,
        ["scope"] = scope,
    }, (ExchangeArrangement.Gateway, ExchangeArrangement.Secret));

    [Fact]
    public async Task A_signed_assertion_becomes_a_token_for_the_user_a_SAML_sign_in_would_make()
    {
        var response = await ExchangeAsync(Assertion());

        Assert.True(response.Status == 200, response.Json.ToString());
        var token = response.AccessToken;
        Assert.Equal("doctor_access read:orders", token.GetPayloadValue<string>("scope")); // Role=doctor, per St Mary's rule
        Assert.Equal("P-123", token.GetPayloadValue<string>("provider_id"));
        Assert.True(token.ValidTo <= SamlResponseSpec.Now.AddMinutes(5).UtcDateTime, "outlives the assertion");
        var link = await _saml.Server.WithDbAsync(db => db.ExternalIdentities.SingleAsync());
        Assert.Equal((SamlSignIn.ConnectionId, "u-4711", token.Subject), (link.ConnectionId, link.Subject, link.UserId.ToString()));
    }

    [Fact]
    public async Task An_assertion_addressed_to_the_token_endpoint_is_accepted_too()
    {
        var tokenEndpoint = TesseraTestServer.Issuer + "/token";
        var response = await ExchangeAsync(Assertion(SamlSignIn.Spec(null) with { Recipient = tokenEndpoint, Audience = tokenEndpoint }));

        Assert.True(response.Status == 200, response.Json.ToString());
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "replayed", "subject_token.replay" },
        { "unsigned", "subject_token.signature_missing" },
        { "signed_by_another_key", "subject_token.signature_invalid" },
        { "for_another_audience", "subject_token.audience" },
        { "for_another_recipient", "subject_token.recipient" },
        { "expired", "subject_token.expired" },
        { "from_another_idp", "subject_token.issuer_not_allowed" },
        { "a_whole_response", "subject_token.not_a_response" },
        { "standard_base64", "subject_token.base64" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_hostile_assertion_is_refused_by_its_rule(string attack, string rule)
    {
        var spec = SamlSignIn.Spec(null);
        var token = attack switch
        {
            "replayed" => Assertion(spec with { AssertionId = "_replayed" }),
            "unsigned" => Assertion(sign: false),
            "signed_by_another_key" => Assertion(signer: TestSamlIdentityProvider.UnknownCertificate),
            "for_another_audience" => Assertion(spec with { Audience = "https://someone-else.example" }),
            "for_another_recipient" => Assertion(spec with { Recipient = "https://someone-else.example/acs" }),
            "expired" => Assertion(spec with { NotOnOrAfter = SamlResponseSpec.Now.AddMinutes(-10), ConfirmationNotOnOrAfter = SamlResponseSpec.Now.AddMinutes(10) }),
            "from_another_idp" => Assertion(spec with { AssertionIssuer = "https://idp.elsewhere.example" }),
            "a_whole_response" => Base64UrlEncoder.Encode(Convert.FromBase64String(TestSamlIdentityProvider.SignedAssertion(spec))),
            "standard_base64" => Convert.ToBase64String(Encoding.UTF8.GetBytes("<?xml?>" + new string('?', 30))),
            _ => throw new ArgumentOutOfRangeException(nameof(attack)),
        };
        if (attack == "replayed")
        {
            Assert.Equal(200, (await ExchangeAsync(token)).Status);
        }

        var response = await ExchangeAsync(token);

        Assert.Equal("invalid_request", response.Error);
        var row = (await _saml.Server.AuditAsync()).Last(r => r.Event == "token.exchange_refused");
        Assert.Contains($"\"rule\":\"{rule}\"", row.Detail, StringComparison.Ordinal);
    }
}
