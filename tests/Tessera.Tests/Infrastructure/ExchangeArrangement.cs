using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// Tessera with St Mary's (behind the fake upstream IdP), two partner STSs on loopback as trusted issuers, and three
/// exchanging clients: the gateway (delegation and impersonation, just-in-time users, into orders or reports), a
/// delegate-only service, and one that no policy names.
/// </summary>
public sealed class ExchangeArrangement : IAsyncDisposable
{
    public const string PortalIssuer = "https://portal.partner.example";
    public const string OtherIssuer = "https://other.partner.example";
    public const string TesseraAudience = "https://tessera.example";
    public const string Gateway = "gateway";
    public const string DelegateOnly = "delegate-only";
    public const string Unpoliced = "unpoliced";
    public const string Exchange = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    public const string JwtType = "urn:ietf:params:oauth:token-type:jwt";

    public static readonly string Secret = Tessera.Protocol.ClientSecretHasher.Generate();

    private ExchangeArrangement(BrokeredSignIn tessera, ForeignIssuer portal, ForeignIssuer other)
    {
        Host = tessera;
        Portal = portal;
        Other = other;
    }

    public BrokeredSignIn Host { get; }
    public TesseraTestServer Server => Host.Server;
    public HttpClient Http => Host.Http;
    public ForeignIssuer Portal { get; }
    public ForeignIssuer Other { get; }

    public static async Task<ExchangeArrangement> StartAsync(Action<TesseraOptions>? configure = null, TimeProvider? time = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        var portal = await ForeignIssuer.StartAsync("portal-1");
        var other = await ForeignIssuer.StartAsync("other-1");
        var tessera = await BrokeredSignIn.StartAsync(options =>
        {
            Configure(options, portal, other);
            configure?.Invoke(options);
        }, time, services);
        return new ExchangeArrangement(tessera, portal, other);
    }

    private static void Configure(TesseraOptions options, ForeignIssuer portal, ForeignIssuer other)
    {
        string[] grants = [Exchange, "client_credentials"];
        void Client(string id, List<string> scopes, List<string> audiences) => options.Clients.Add(new ClientOptions
        {
            ClientId = id,
            Type = "confidential",
            ClientSecret = Secret,
            GrantTypes = [.. grants],
            Scopes = scopes,
            Audiences = audiences,
        });
        Client(Gateway, ["read:orders", "write:orders", "doctor_access"], [TestConfiguration.OrdersAudience, TestConfiguration.ReportsAudience]);
        Client(DelegateOnly, ["write:orders"], [TestConfiguration.OrdersAudience]);
        Client(Unpoliced, ["write:orders"], [TestConfiguration.OrdersAudience]);
        options.TrustedIssuers.Add(new TrustedIssuerOptions
        {
            Id = "partner-portal",
            Issuer = PortalIssuer,
            Organization = TestConfiguration.Organization,
            JwksUri = portal.JwksUri.AbsoluteUri,
            Audiences = [TesseraAudience],
            SubjectClaim = "ext_user_id",
            ClaimMappings = [new ClaimMappingOptions { From = "department", Claim = "dept" }],
            Rules = [new RuleOptions { When = new() { ["role"] = "doctor" }, Grant = new GrantOptions { Scopes = ["doctor_access"] } }],
        });
        options.TrustedIssuers.Add(new TrustedIssuerOptions
        {
            Id = "other-partner",
            Issuer = OtherIssuer,
            Organization = TestConfiguration.Organization,
            JwksUri = other.JwksUri.AbsoluteUri,
            Audiences = [TesseraAudience],
        });
        options.ExchangePolicies.Add(new ExchangePolicyOptions
        {
            ClientId = Gateway,
            SubjectIssuers = ["partner-portal", "tessera"],
            Audiences = [TestConfiguration.OrdersAudience],
            Scopes = ["read:orders", "write:orders"],
            MaxLifetime = TimeSpan.FromMinutes(15),
            Delegation = true,
            Impersonation = true,
            JustInTimeUsers = true,
            IdTokens = true,
        });
        options.ExchangePolicies.Add(new ExchangePolicyOptions
        {
            ClientId = Gateway,
            SubjectIssuers = ["partner-portal", "tessera"],
            Audiences = [TestConfiguration.ReportsAudience],
            Scopes = ["doctor_access"],
            Delegation = true,
            Impersonation = true,
            JustInTimeUsers = true,
        });
        options.ExchangePolicies.Add(new ExchangePolicyOptions
        {
            ClientId = DelegateOnly,
            SubjectIssuers = ["partner-portal"],
            ActorIssuers = ["tessera"],
            Audiences = [TestConfiguration.OrdersAudience],
            Scopes = ["write:orders"],
            Delegation = true,
        });
    }

    /// <summary>Claims of a good subject token from the partner portal, changed by <paramref name="change"/>.</summary>
    public static Dictionary<string, object> PortalClaims(string user = "ext-4711", Action<Dictionary<string, object>>? change = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = PortalIssuer,
            ["aud"] = TesseraAudience,
            ["ext_user_id"] = user,
            ["sub"] = "portal-session-" + user,
            ["iat"] = now,
            ["nbf"] = now - 5,
            ["exp"] = now + 3600,
        };
        change?.Invoke(claims);
        return claims;
    }

    public string PortalToken(string user = "ext-4711", Action<Dictionary<string, object>>? change = null, string kid = "portal-1") =>
        Portal.Sign(kid, PortalClaims(user, change));

    /// <summary>A token-exchange request; <paramref name="extra"/> adds or (with null) removes parameters.</summary>
    public Task<OauthResponse> ExchangeAsync(string subjectToken, string subjectTokenType = JwtType, string client = Gateway, Dictionary<string, string?>? extra = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = Exchange,
            ["subject_token"] = subjectToken,
            ["subject_token_type"] = subjectTokenType,
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                form.Remove(name);
            }
            else
            {
                form[name] = value;
            }
        }

        return Oauth.TokenAsync(Http, form, (client, Secret));
    }

    /// <summary>The client's own client-credentials access token: the usual actor token of a service acting for a user.</summary>
    public async Task<string> ServiceTokenAsync(string client = Gateway)
    {
        var response = await Oauth.ClientCredentialsAsync(Http, client, Secret, "write:orders");
        Assert.Equal(200, response.Status);
        return response["access_token"]!;
    }

    public async Task<JsonWebKeySet> JwksAsync() => new(await Http.GetStringAsync(".well-known/jwks.json"));

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Portal.DisposeAsync();
        await Other.DisposeAsync();
    }
}
