using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

/// <summary>Trusted issuers and exchange policies are checked the way an exchange reads them; each mistake is named with its path.</summary>
public sealed class ExchangeValidationTests
{
    private const string Issuer = "$.Tessera.TrustedIssuers[0]";
    private const string Policy = "$.Tessera.ExchangePolicies[0]";

    private static TesseraOptions Options(Action<TesseraOptions> change)
    {
        var options = TestConfiguration.Create(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = "Data Source=x.db" });
        options.Network.AllowPrivateUpstreams = false; // as deployed: these issuers are not on loopback
        var service = options.Clients.Single(c => c.ClientId == TestConfiguration.ServiceClient);
        service.GrantTypes.Add(TesseraOptionsValidator.TokenExchangeGrant);
        options.Organizations.Add(new OrganizationOptions
        {
            Id = TestConfiguration.Organization,
            Connections = [new ConnectionOptions { Id = "stmarys-oidc", Protocol = "oidc", Authority = "https://idp.stmarys.example", ClientId = "tessera", ClientSecret = "upstream-secret-0123456789" }],
        });
        options.TrustedIssuers.Add(new TrustedIssuerOptions
        {
            Id = "partner-portal",
            Issuer = "https://portal.partner.example",
            Organization = TestConfiguration.Organization,
            Audiences = ["https://tessera.example"],
            SubjectClaim = "ext_user_id",
        });
        options.ExchangePolicies.Add(new ExchangePolicyOptions
        {
            ClientId = TestConfiguration.ServiceClient,
            SubjectIssuers = ["partner-portal"],
            Audiences = [TestConfiguration.OrdersAudience],
            Scopes = ["write:orders"],
            MaxLifetime = TimeSpan.FromMinutes(15),
            Delegation = true,
            JustInTimeUsers = true,
        });
        change(options);
        TesseraOptionsDefaults.Apply(options);
        return options;
    }

    private static TrustedIssuerOptions First(TesseraOptions o) => o.TrustedIssuers[0];

    private static ExchangePolicyOptions Rule(TesseraOptions o) => o.ExchangePolicies[0];

    /// <summary>A presentation "over-21" (asking for one credential, or two) that <paramref name="clients"/> may ask for, named by the policy.</summary>
    private static void Presented(TesseraOptions o, string[] clients, bool twoCredentials = false)
    {
        var credential = """{"id": "ID", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://dmv.example/age"]}, "claims": [{"path": ["age_equal_or_over", "21"]}]}""";
        o.Presentations.Add(new Tessera.Credentials.PresentationOptions
        {
            Id = "over-21",
            Query = $$"""{"credentials": [{{credential.Replace("ID", "age", StringComparison.Ordinal)}}{{(twoCredentials ? "," + credential.Replace("ID", "again", StringComparison.Ordinal) : "")}}]}""",
            Clients = [.. clients],
            Claims = new() { ["age_over_21"] = ["age_equal_or_over", "21"] },
        });
        Rule(o).Presentations = ["over-21"];
    }

    public static TheoryData<string, Action<TesseraOptions>, string> Rows => new()
    {
        { "issuer id reserved for Tessera", o => First(o).Id = "tessera", $"{Issuer}.Id: 'tessera' stands for Tessera itself" },
        { "issuer id that is a connection id", o => First(o).Id = "stmarys-oidc", $"{Issuer}.Id: 'stmarys-oidc' is already a connection id" },
        { "issuer declared twice", o => o.TrustedIssuers.Add(new TrustedIssuerOptions { Id = "partner-portal", Issuer = "https://b.example", Organization = "st-marys", Audiences = ["x"] }), "$.Tessera.TrustedIssuers[1].Id: 'partner-portal' is declared more than once" },
        { "two issuers with one URL", o => o.TrustedIssuers.Add(new TrustedIssuerOptions { Id = "again", Issuer = "https://portal.partner.example", Organization = "st-marys", Audiences = ["x"] }), "$.Tessera.TrustedIssuers[1].Issuer: another trusted issuer already has this issuer URL" },
        { "issuer over plain http", o => First(o).Issuer = "http://portal.partner.example", $"{Issuer}.Issuer: must be the issuer's absolute https URL" },
        { "Tessera trusting itself", o => First(o).Issuer = o.Issuer, $"{Issuer}.Issuer: is Tessera itself" },
        { "issuer of no organization", o => First(o).Organization = "nowhere", $"{Issuer}.Organization: no organization 'nowhere'" },
        { "issuer linked to a connection of no such name", o => First(o).Connection = "elsewhere", $"{Issuer}.Connection: organization 'st-marys' has no connection 'elsewhere'" },
        { "key set over plain http", o => First(o).JwksUri = "http://portal.partner.example/jwks", $"{Issuer}.JwksUri: must be an absolute https URL" },
        { "issuer on loopback, fetched for its discovery document", o => First(o).Issuer = "http://127.0.0.1:9000", $"{Issuer}.Issuer: points at a private or loopback address; set Network.AllowPrivateUpstreams to true" },
        { "issuer at localhost, fetched for its discovery document", o => First(o).Issuer = "https://localhost:9443", $"{Issuer}.Issuer: points at a private or loopback address" },
        { "key set on loopback", o => First(o).JwksUri = "http://127.0.0.1:9000/jwks", $"{Issuer}.JwksUri: points at a private or loopback address" },
        { "key set on the cloud metadata address", o => First(o).JwksUri = "https://169.254.169.254/latest/jwks", $"{Issuer}.JwksUri: points at a private or loopback address" },
        { "HMAC from a foreign issuer", o => First(o).AllowedAlgorithms = ["HS256"], $"{Issuer}.AllowedAlgorithms[0]: 'HS256' is not allowed" },
        { "alg none from a foreign issuer", o => First(o).AllowedAlgorithms = ["none"], $"{Issuer}.AllowedAlgorithms[0]: 'none' is not allowed" },
        { "foreign tokens with no required audience", o => First(o).Audiences = [], $"{Issuer}.Audiences: name the audience(s)" },
        { "subject claim Tessera sets itself", o => First(o).SubjectClaim = "org", $"{Issuer}.SubjectClaim: must name the claim" },
        { "skew beyond five minutes", o => First(o).ClockSkew = TimeSpan.FromMinutes(30), $"{Issuer}.ClockSkew: must be between 0 and 5 minutes" },
        { "mapping onto the subject", o => First(o).ClaimMappings = [new ClaimMappingOptions { From = "uid", Claim = "sub" }], $"{Issuer}.ClaimMappings[0].Claim: must name a claim Tessera does not set" },
        { "issuer rule granting act", o => First(o).Rules = [new RuleOptions { When = new() { ["role"] = "x" }, Grant = new GrantOptions { Claims = new() { ["act"] = "admin" } } }], $"{Issuer}.Rules[0].Grant.Claims.act: this claim is set by Tessera" },
        { "refresh interval of zero", o => First(o).Keys.RefreshInterval = TimeSpan.Zero, $"{Issuer}.Keys.RefreshInterval: must be between 1 second and 1 hour" },
        { "cache bounds the wrong way round", o => First(o).Keys.MinCacheDuration = TimeSpan.FromDays(2), $"{Issuer}.Keys.MinCacheDuration: must be positive and at most MaxCacheDuration" },
        { "stale keys kept for a month", o => First(o).Keys.StaleLifetime = TimeSpan.FromDays(30), $"{Issuer}.Keys.StaleLifetime: must be between 0 and 7 days" },
        { "policy for an unknown client", o => Rule(o).ClientId = "nobody", $"{Policy}.ClientId: no client 'nobody'" },
        { "policy for a client without the grant", o => Rule(o).ClientId = TestConfiguration.ResourceServer, $"{Policy}.ClientId: client 'reports-api' does not list the grant type" },
        { "policy with no subject issuers", o => Rule(o).SubjectIssuers = [], $"{Policy}.SubjectIssuers: name at least one" },
        { "policy naming an unknown issuer", o => Rule(o).SubjectIssuers = ["partner-portal", "who"], $"{Policy}.SubjectIssuers[1]: 'who' is neither a trusted issuer" },
        { "policy naming an OIDC connection", o => Rule(o).SubjectIssuers = ["stmarys-oidc"], $"{Policy}.SubjectIssuers[0]: 'stmarys-oidc' is neither a trusted issuer, a saml2 connection" },
        { "actor issuer that is unknown", o => Rule(o).ActorIssuers = ["who"], $"{Policy}.ActorIssuers[0]: 'who' is neither" },
        { "policy with no audience", o => Rule(o).Audiences = [], $"{Policy}.Audiences: name the audience(s)" },
        { "audience the client is not registered for", o => Rule(o).Audiences = ["https://billing.example/api"], $"{Policy}.Audiences[0]: 'https://billing.example/api' is not among client 'orders-service's Audiences" },
        { "scope the client is not registered for", o => Rule(o).Scopes = ["write:invoices"], $"{Policy}.Scopes[0]: 'write:invoices' is not among client 'orders-service's Scopes" },
        { "wildcard scope ceiling", o => Rule(o).Scopes = ["write:*"], $"{Policy}.Scopes[0]: wildcard scopes do not exist" },
        { "refresh tokens by exchange", o => Rule(o).Scopes = ["offline_access"], $"{Policy}.Scopes[0]: an exchange issues no refresh token" },
        { "no scope at all", o => Rule(o).Scopes = [], $"{Policy}.Scopes: name the scopes" },
        { "lifetime of a week", o => Rule(o).MaxLifetime = TimeSpan.FromDays(7), $"{Policy}.MaxLifetime: must be positive and at most one day" },
        { "presentation that is not configured", o => Rule(o).Presentations = ["over-99"], $"{Policy}.Presentations[0]: 'over-99' is not a configured presentation" },
        { "presentation the client may not ask for", o => Presented(o, [TestConfiguration.WebClient]), $"{Policy}.Presentations[0]: presentation 'over-21' does not list client 'orders-service'" },
        { "presentation asking for two credentials", o => Presented(o, [TestConfiguration.ServiceClient], twoCredentials: true), $"{Policy}.Presentations[0]: presentation 'over-21' asks for 2 credentials" },
        { "ID tokens from presentations alone", o => { Presented(o, [TestConfiguration.ServiceClient]); Rule(o).SubjectIssuers = []; Rule(o).IdTokens = true; }, $"{Policy}.IdTokens: a presentation names no user" },
        { "neither delegation nor impersonation", o => Rule(o).Delegation = false, $"{Policy}: a policy must allow Delegation" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_bad_exchange_setting_is_refused_with_path_and_reason(string problem, Action<TesseraOptions> change, string expected)
    {
        var errors = ConfigurationCompiler.Compile(Options(change)).Errors.Select(e => e.Format(null)).ToList();

        Assert.True(errors.Any(e => e.StartsWith(expected, StringComparison.Ordinal)), $"{problem}: expected '{expected}', got: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void An_issuer_on_loopback_is_accepted_when_its_keys_come_from_elsewhere_or_private_upstreams_are_allowed()
    {
        // With a JwksUri the issuer URL is only compared with 'iss', never fetched.
        Assert.Empty(ConfigurationCompiler.Compile(Options(o => { First(o).Issuer = "http://127.0.0.1:9000"; First(o).JwksUri = "https://keys.partner.example/jwks"; })).Errors);
        Assert.Empty(ConfigurationCompiler.Compile(Options(o => { o.Network.AllowPrivateUpstreams = true; First(o).Issuer = "http://127.0.0.1:9000"; })).Errors);
    }

    [Fact]
    public void The_documented_shape_is_accepted_with_its_defaults()
    {
        var options = Options(_ => { });

        Assert.Empty(ConfigurationCompiler.Compile(options).Errors);
        Assert.Equal(["RS256", "ES256"], options.TrustedIssuers[0].AllowedAlgorithms);
        Assert.Equal(TimeSpan.FromSeconds(30), options.TrustedIssuers[0].Keys.RefreshInterval);
        Assert.Equal(TimeSpan.FromHours(24), options.TrustedIssuers[0].Keys.StaleLifetime);
    }
}
