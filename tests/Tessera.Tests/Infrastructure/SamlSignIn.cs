using System.Security.Cryptography.X509Certificates;
using System.Web;
using System.Xml;
using Microsoft.Extensions.Time.Testing;
using Tessera.Hosting;
using Tessera.Saml;
using Tessera.Saml.Tests.Infrastructure;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// A test host with St Mary's behind a SAML IdP (the shared test IdP, explicit trust settings), a clock stopped at
/// the test IdP's "now", and the steps of an SP-initiated sign-in a test can run one by one or all at once.
/// </summary>
public sealed class SamlSignIn : IAsyncDisposable
{
    public const string ConnectionId = "stmarys-saml";
    public const string AcsUrl = TesseraTestServer.Issuer + "/saml/" + ConnectionId + "/acs";
    public const string SpEntityId = TesseraTestServer.Issuer + "/saml/" + ConnectionId;
    public const string IdpHost = "idp.stmarys.example";

    private SamlSignIn(TesseraTestServer server, FakeTimeProvider time)
    {
        Server = server;
        Time = time;
        Http = server.CreateClient();
    }

    public TesseraTestServer Server { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Http { get; }

    public static async Task<SamlSignIn> StartAsync(Action<ConnectionOptions>? connection = null, Action<TesseraOptions>? configure = null, TestDatabase? database = null, FakeTimeProvider? time = null)
    {
        time ??= new FakeTimeProvider(SamlResponseSpec.Now);
        var server = await TesseraTestServer.StartAsync(options =>
        {
            var saml = Connection();
            connection?.Invoke(saml);
            options.Organizations.Add(new OrganizationOptions
            {
                Id = TestConfiguration.Organization,
                DisplayName = "St Mary's Hospital",
                Domains = ["stmarys.example"],
                Connections = [saml],
                Rules =
                [
                    new RuleOptions { When = new() { ["Role"] = "doctor" }, Grant = new GrantOptions { Scopes = ["doctor_access"] } },
                ],
            });
            configure?.Invoke(options);
        }, time, database: database, keepDatabase: database is not null);
        return new SamlSignIn(server, time);
    }

    public static ConnectionOptions Connection() => new()
    {
        Id = ConnectionId,
        Protocol = "saml2",
        EntityId = TestSamlIdentityProvider.EntityId,
        SsoUrl = "https://idp.stmarys.example/sso",
        Certificates = [TestSamlIdentityProvider.SigningCertificate.ExportCertificatePem()],
        SpCertificate = TestSamlIdentityProvider.SpCertificate.ExportCertificatePem(),
        SpPrivateKey = TestSamlIdentityProvider.SpCertificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem(),
        AttributeClaims = [new AttributeClaimOptions { Attribute = "ProviderID", Claim = "provider_id" }],
    };

    /// <summary>A response to <paramref name="requestId"/> addressed the way this host expects.</summary>
    public static SamlResponseSpec Spec(string? requestId) => new()
    {
        Destination = AcsUrl,
        Recipient = AcsUrl,
        Audience = SpEntityId,
        InResponseTo = requestId,
    };

    public Browser Browser() => new(Server.Server, new Uri(TesseraTestServer.Issuer));

    /// <summary>Starts an authorization request that goes to the SAML IdP; stops at the IdP's SSO URL.</summary>
    public async Task<Started> BeginAsync(Browser browser, IDictionary<string, string?>? extra = null)
    {
        var (verifier, challenge) = Oauth.Pkce();
        var parameters = new Dictionary<string, string?> { ["connection"] = ConnectionId };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            parameters[key] = value;
        }

        var url = Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid profile email offline_access doctor_access",
            Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"), challenge, parameters);
        var navigation = await browser.NavigateAsync(url, uri => uri.Host == IdpHost);
        Assert.True(navigation.StoppedAt is not null, $"expected a redirect to the IdP, got {(int)navigation.Response.StatusCode} {await navigation.Response.Content.ReadAsStringAsync()}");
        var query = HttpUtility.ParseQueryString(navigation.StoppedAt!.Query);
        var request = new XmlDocument();
        request.LoadXml(TestSamlIdentityProvider.Inflate(query["SAMLRequest"]!));
        return new Started(navigation.StoppedAt, request.DocumentElement!, query["RelayState"]!, verifier);
    }

    /// <summary>Posts a Response to the ACS as the IdP's auto-submitting form would, and follows Tessera's redirects.</summary>
    public async Task<AuthorizationOutcome> PostAsync(Browser browser, string samlResponse, string? relayState, string verifier = "")
    {
        var form = new Dictionary<string, string> { ["SAMLResponse"] = samlResponse };
        if (relayState is not null)
        {
            form["RelayState"] = relayState;
        }

        var response = await browser.PostFormAsync(AcsUrl, form);
        if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
        {
            var next = location.IsAbsoluteUri ? location : new Uri(new Uri(AcsUrl), location);
            if (next.AbsoluteUri.StartsWith(TestConfiguration.PublicRedirect, StringComparison.Ordinal) || !next.AbsoluteUri.StartsWith(TesseraTestServer.Issuer, StringComparison.Ordinal))
            {
                return new AuthorizationOutcome(next, response, verifier, "", "");
            }

            var navigation = await browser.NavigateAsync(next.AbsoluteUri, uri => uri.AbsoluteUri.StartsWith(TestConfiguration.PublicRedirect, StringComparison.Ordinal));
            return new AuthorizationOutcome(navigation.StoppedAt, navigation.Response, verifier, "", "");
        }

        return new AuthorizationOutcome(null, response, verifier, "", "");
    }

    /// <summary>The whole SP-initiated sign-in with a response the test IdP signs (assertion signed unless <paramref name="sign"/> says otherwise).</summary>
    public async Task<(AuthorizationOutcome Outcome, OauthResponse Tokens)> SignInAsync(Browser browser, Func<SamlResponseSpec, SamlResponseSpec>? adjust = null, Action<XmlDocument>? sign = null)
    {
        var started = await BeginAsync(browser);
        var spec = Spec(started.RequestId);
        var document = TestSamlIdentityProvider.Build(adjust is null ? spec : adjust(spec));
        (sign ?? (d => TestSamlIdentityProvider.Sign(TestSamlIdentityProvider.Assertion(d))))(document);
        var outcome = await PostAsync(browser, TestSamlIdentityProvider.Encode(document), started.RelayState, started.Verifier);
        Assert.True(outcome.Code is not null, $"expected a code, got {outcome.Redirect} / {(int)outcome.Response.StatusCode} {await outcome.Response.Content.ReadAsStringAsync()}");
        var tokens = await Oauth.RedeemAsync(Http, TestConfiguration.PublicClient, null, TestConfiguration.PublicRedirect, outcome);
        Assert.True(tokens.Status == 200, tokens.Json.ToString());
        return (outcome, tokens);
    }


    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>Where the browser was sent: the IdP URL, the AuthnRequest it carried, and the RelayState.</summary>
    public sealed record Started(Uri IdpUrl, XmlElement Request, string RelayState, string Verifier)
    {
        public string RequestId => Request.GetAttribute("ID");
    }
}
