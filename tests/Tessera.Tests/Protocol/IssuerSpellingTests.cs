using System.Text.Json;
using System.Xml;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;
using Tessera.Tests.Signals;

namespace Tessera.Tests.Protocol;

/// <summary>
/// Strict clients compare <c>iss</c> with the discovery document's <c>issuer</c> character for character (OpenID
/// Connect Discovery 1.0 §4.3, Back-Channel Logout 1.0 §2.6, RFC 8417 §2.2). Whatever the operator typed, everything
/// Tessera signs or publishes names the issuer in the one spelling discovery uses, and a path issuer serves under its path.
/// </summary>
public sealed class IssuerSpellingTests
{
    private const string SamlOrganization = "saml-partner";

    public static TheoryData<string, string, string> Spellings => new()
    {
        { "an origin without the trailing slash", "http://localhost", "http://localhost/" },
        { "an origin with the trailing slash", "http://localhost/", "http://localhost/" },
        { "a path", "https://login.example.com/tenant-a", "https://login.example.com/tenant-a" },
        { "a path with the trailing slash", "https://login.example.com/tenant-a/", "https://login.example.com/tenant-a/" },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public async Task Every_token_and_document_names_the_issuer_exactly_as_discovery_does(string spelling, string configuredIssuer, string expected)
    {
        await using var x = await SignalArrangement.StartAsync(options =>
        {
            options.Issuer = configuredIssuer;
            AllowOwnTokenExchange(options);
            options.Organizations.Add(new OrganizationOptions { Id = SamlOrganization, Domains = ["partner.example"], Connections = [SamlSignIn.Connection()] });
        });
        var under = expected.TrimEnd('/') + "/";

        using var discovery = JsonDocument.Parse(await x.Http.GetStringAsync(".well-known/openid-configuration"));
        var metadata = discovery.RootElement;
        Assert.True(metadata.GetProperty("issuer").GetString() == expected, $"{spelling}: discovery names {metadata.GetProperty("issuer")}");
        foreach (var endpoint in new[] { "authorization_endpoint", "token_endpoint", "introspection_endpoint", "revocation_endpoint", "userinfo_endpoint", "end_session_endpoint", "jwks_uri" })
        {
            Assert.StartsWith(under, metadata.GetProperty(endpoint).GetString(), StringComparison.Ordinal);
        }

        // The endpoints answer where discovery says they are.
        var jwks = new JsonWebKeySet(await x.Http.GetStringAsync(metadata.GetProperty("jwks_uri").GetString()));
        var tokenEndpoint = metadata.GetProperty("token_endpoint").GetString()!;
        var service = await Oauth.PostAsync(x.Http, tokenEndpoint, new Dictionary<string, string> { ["grant_type"] = "client_credentials" },
            (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret));
        Assert.Equal(200, service.Status);
        await AssertSignedByAsync(service["access_token"]!, jwks, expected, "at+jwt");

        using var browser = x.Server.CreateBrowser();
        var (userId, sid, reports, _) = await x.SignInToBothAppsAsync(browser);
        await AssertSignedByAsync(reports["id_token"]!, jwks, expected, "JWT");
        await AssertSignedByAsync(reports["access_token"]!, jwks, expected, "at+jwt");

        var introspection = await Oauth.IntrospectAsync(x.Http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, reports["access_token"]!);
        Assert.Equal(expected, introspection["iss"]);

        var exchanged = await Oauth.TokenAsync(x.Http, new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
            ["subject_token"] = reports["access_token"]!,
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            ["scope"] = "read:reports",
        }, (TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret));
        Assert.Equal(200, exchanged.Status);
        await AssertSignedByAsync(exchanged["access_token"]!, jwks, expected, "at+jwt");

        var scim = x.Scim();
        await x.SetActiveAsync(scim, await x.ProvisionAsync(scim), active: false);
        var logout = await SignalReceiver.VerifyAsync(x.Server, (await x.Reports.WaitForAsync(1)).Single(), TestConfiguration.PublicClient, "logout+jwt");
        Assert.NotNull(logout);
        Assert.Equal(expected, logout.Issuer);
        Assert.Equal(sid, logout.GetClaim("sid").Value);
        var pushed = await x.Api.WaitForAsync(2);
        foreach (var set in pushed)
        {
            var verified = await SignalReceiver.VerifyAsync(x.Server, set, TestConfiguration.ReportsAudience, "secevent+jwt");
            Assert.NotNull(verified);
            var user = SecurityEventTokenTests.SubjectId(verified).GetProperty("user");
            Assert.Equal(expected, user.GetProperty("iss").GetString());
            Assert.Equal(userId, user.GetProperty("sub").GetString());
        }

        using var ssf = JsonDocument.Parse(await x.Http.GetStringAsync(".well-known/ssf-configuration"));
        Assert.Equal(expected, ssf.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(metadata.GetProperty("jwks_uri").GetString(), ssf.RootElement.GetProperty("jwks_uri").GetString());

        var sp = new XmlDocument();
        sp.LoadXml(await x.Http.GetStringAsync($"saml/{SamlSignIn.ConnectionId}/metadata"));
        Assert.Equal(new TesseraIssuer(configuredIssuer).Url($"/saml/{SamlSignIn.ConnectionId}"), sp.DocumentElement!.GetAttribute("entityID"));
        var acs = (XmlElement)sp.GetElementsByTagName("AssertionConsumerService", "urn:oasis:names:tc:SAML:2.0:metadata")[0]!;
        Assert.Equal(under + $"saml/{SamlSignIn.ConnectionId}/acs", acs.GetAttribute("Location"));
    }

    [Fact]
    public async Task A_path_issuer_serves_its_pages_and_cookies_under_its_path()
    {
        await using var x = await SignalArrangement.StartAsync(options => options.Issuer = "https://login.example.com/tenant-a");
        using var browser = x.Server.CreateBrowser();

        var (_, tokens) = await x.Host.SignInAsync(browser);

        Assert.Equal("https://login.example.com/tenant-a", tokens.IdToken.Issuer);
        Assert.All(browser.History.Where(u => u.Host == "login.example.com"), u => Assert.StartsWith("/tenant-a/", u.AbsolutePath, StringComparison.Ordinal));
        Assert.All(browser.Cookies.GetAllCookies(), c => Assert.StartsWith("/tenant-a", c.Path, StringComparison.Ordinal));
        Assert.NotEmpty(browser.Cookies.GetAllCookies());
    }

    /// <summary>The reports API may exchange a user's access token meant for it (impersonation, narrowed to read:reports).</summary>
    private static void AllowOwnTokenExchange(TesseraOptions options)
    {
        options.Clients.Single(c => c.ClientId == TestConfiguration.ResourceServer).GrantTypes.Add("urn:ietf:params:oauth:grant-type:token-exchange");
        options.ExchangePolicies.Add(new ExchangePolicyOptions
        {
            ClientId = TestConfiguration.ResourceServer,
            SubjectIssuers = ["tessera"],
            Audiences = [TestConfiguration.ReportsAudience],
            Scopes = ["read:reports"],
            Impersonation = true,
        });
    }

    private static async Task AssertSignedByAsync(string token, JsonWebKeySet jwks, string issuer, string type)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidateAudience = false,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = [type],
            ValidAlgorithms = ["ES256", "RS256"],
        });
        Assert.True(result.IsValid, $"{type}: {result.Exception?.Message}");
    }
}
