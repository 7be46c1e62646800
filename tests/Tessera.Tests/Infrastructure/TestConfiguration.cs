using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Protocol;

namespace Tessera.Tests.Infrastructure;

/// <summary>The clients and organizations most tests use; tests adjust them before the host starts.</summary>
public static class TestConfiguration
{
    public const string PublicClient = "reports-web";
    public const string PublicRedirect = "http://127.0.0.1:3000/callback";
    public const string WebClient = "billing-web";
    public const string WebSecret = "billing-web-secret-0123456789";
    public const string WebRedirect = "https://billing.example/signin-oidc";
    public const string ServiceClient = "orders-service";
    public const string ResourceServer = "reports-api";
    public const string ReportsAudience = "https://reports.example";
    public const string OrdersAudience = "https://orders.internal";
    public const string Organization = "st-marys";
    public const string Connection = "stmarys-oidc";

    /// <summary>A generated (256-bit) secret, so it is verified with the fast hash.</summary>
    public static readonly string ServiceSecret = ClientSecretHasher.Generate();

    public static readonly string ResourceServerSecret = ClientSecretHasher.Generate();

    public static TesseraOptions Create(StorageOptions storage) => new()
    {
        Issuer = TesseraTestServer.Issuer,
        Storage = storage,
        Keys = new KeyOptions { EncryptionKey = KeyEncryptionKey.Generate() },
        // The fake identity providers and issuers listen on loopback.
        Network = new NetworkOptions { AllowPrivateUpstreams = true },
        Clients =
        [
            new ClientOptions
            {
                ClientId = PublicClient, Type = "public",
                RedirectUris = [PublicRedirect], PostLogoutRedirectUris = ["http://127.0.0.1:3000/signed-out"],
                GrantTypes = ["authorization_code", "refresh_token"],
                Scopes = ["openid", "profile", "email", "offline_access", "read:reports", "doctor_access"],
                Audiences = [ReportsAudience],
            },
            new ClientOptions
            {
                ClientId = WebClient, Type = "confidential", ClientSecret = WebSecret,
                RedirectUris = [WebRedirect], GrantTypes = ["authorization_code", "refresh_token"],
                Scopes = ["openid", "profile", "email", "offline_access", "write:invoices"],
                Audiences = ["https://billing.example/api"], SigningAlgorithm = "RS256",
            },
            new ClientOptions
            {
                ClientId = ServiceClient, Type = "confidential", ClientSecret = ServiceSecret,
                GrantTypes = ["client_credentials"], Scopes = ["write:orders", "read:orders"], Audiences = [OrdersAudience],
            },
            new ClientOptions
            {
                ClientId = ResourceServer, Type = "confidential", ClientSecret = ResourceServerSecret,
                GrantTypes = ["client_credentials"], Scopes = ["read:reports"], Audiences = [ReportsAudience],
            },
        ],
    };

    /// <summary>Adds St Mary's with one OpenID Connect connection to <paramref name="idp"/>.</summary>
    public static void AddStMarys(TesseraOptions options, FakeUpstreamIdp idp, Action<ConnectionOptions>? connection = null)
    {
        var oidc = new ConnectionOptions
        {
            Id = Connection,
            Protocol = "oidc",
            Authority = idp.Issuer,
            ClientId = FakeUpstreamIdp.ClientId,
            ClientSecret = FakeUpstreamIdp.ClientSecret,
        };
        connection?.Invoke(oidc);
        options.Organizations.Add(new OrganizationOptions
        {
            Id = Organization,
            DisplayName = "St Mary's Hospital",
            Domains = ["stmarys.example"],
            Connections = [oidc],
            Rules =
            [
                new RuleOptions { When = new() { ["groups"] = "Doctors" }, Grant = new GrantOptions { Scopes = ["doctor_access"] } },
                new RuleOptions { When = new() { ["Role"] = "surgeon" }, Grant = new GrantOptions { Claims = new() { ["department"] = "surgery" } } },
            ],
        });
    }
}

/// <summary>Writes options as a configuration file, the way an operator would.</summary>
public static class ConfigurationFile
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write(TesseraOptions options, string? path = null)
    {
        path ??= Path.Combine(Path.GetTempPath(), "tessera-tests", Guid.NewGuid().ToString("N") + ".json");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["Tessera"] = options }, Json));
        return path;
    }
}

/// <summary>Compiles test options as Tessera compiles a file, and fails the test with every error when they do not compile.</summary>
public static class TestModel
{
    public static TesseraModel Compile(TesseraOptions options)
    {
        var compiled = ConfigurationCompiler.Compile(options);
        return compiled.Model ?? throw new InvalidOperationException("Test configuration is invalid: " + string.Join("; ", compiled.Errors.Select(e => e.Format(null))));
    }
}
