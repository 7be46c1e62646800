using System.Text.Json.Nodes;
using Tessera.Federation.Development;
using Tessera.Keys;

namespace Tessera.Hosting;

/// <summary>The configuration <c>tessera demo</c> runs with: one sample organization behind the mock IdP, one sample app.</summary>
public static class DemoConfiguration
{
    public const string DemoClientId = "demo-app";

    /// <summary>The development-only web wallet under <c>/demo/wallet</c>: a public client that may ask for the age credential.</summary>
    public const string WalletClientId = "demo-wallet";

    /// <summary>The demo's age credential, the shipped sample's <c>age</c> with the demo issuer's type.</summary>
    public const string AgeCredentialId = "age";

    /// <summary>The demo app's server side when it asks Tessera's verifier for a presentation (only a confidential client may).</summary>
    public const string AgeCheckClientId = "demo-age-check";

    /// <summary>The presentation the demo app asks for: <c>age_equal_or_over.21</c> from the age credential, nothing else.</summary>
    public const string Over21PresentationId = "over-21";

    /// <summary>The age check client's secret; fixed per process, like the mock IdP's.</summary>
    public static string AgeCheckClientSecret { get; } = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static TesseraModel Create(string issuer, string dataDirectory)
    {
        System.IO.Directory.CreateDirectory(dataDirectory);
        issuer = issuer.TrimEnd('/');
        var ageVct = issuer + "/credentials/types/" + AgeCredentialId;
        var options = new TesseraOptions
        {
            Issuer = issuer.TrimEnd('/'),
            Storage = new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = $"Data Source={Path.Combine(dataDirectory, "demo.db")}" },
            Keys = new KeyOptions { EncryptionKey = LoadOrCreateKey(Path.Combine(dataDirectory, "demo.kek")) },
            Development = new DevelopmentOptions { Demo = true },
            // The mock identity provider is Tessera itself, on loopback: its discovery and keys are fetched from there.
            Network = new NetworkOptions { AllowPrivateUpstreams = true },
            Clients =
            [
                new ClientOptions
                {
                    ClientId = DemoClientId,
                    DisplayName = "Demo app",
                    Type = "public",
                    RedirectUris = [issuer.TrimEnd('/') + "/demo/callback"],
                    PostLogoutRedirectUris = [issuer.TrimEnd('/') + "/demo"],
                    GrantTypes = ["authorization_code", "refresh_token"],
                    Scopes = ["openid", "profile", "email", "offline_access", "read:reports", "doctor_access"],
                    Audiences = ["https://reports.demo.example"],
                },
                new ClientOptions
                {
                    ClientId = WalletClientId,
                    DisplayName = "Demo wallet",
                    Type = "public",
                    RedirectUris = [issuer + "/demo/wallet/callback"],
                    GrantTypes = ["authorization_code"],
                    Scopes = ["openid", "credential:" + AgeCredentialId],
                },
                new ClientOptions
                {
                    ClientId = AgeCheckClientId,
                    DisplayName = "Demo app (age check)",
                    Type = "confidential",
                    ClientSecret = AgeCheckClientSecret,
                    RedirectUris = [issuer + "/demo/age/result"],
                    GrantTypes = ["client_credentials"],
                    Scopes = ["verify:age"],
                },
            ],
            Organizations =
            [
                new OrganizationOptions
                {
                    Id = "demo-hospital",
                    DisplayName = "Demo Hospital",
                    Domains = ["demo.example"],
                    Connections =
                    [
                        new ConnectionOptions
                        {
                            Id = "demo-idp",
                            DisplayName = "Demo Hospital sign-in (mock IdP)",
                            Protocol = "oidc",
                            Authority = issuer.TrimEnd('/') + MockIdentityProvider.BasePath,
                            ClientId = MockIdentityProvider.ClientId,
                            ClientSecret = MockIdentityProvider.ClientSecret,
                        },
                    ],
                    Rules =
                    [
                        new RuleOptions { When = new() { ["groups"] = "Doctors" }, Grant = new GrantOptions { Scopes = ["doctor_access"] } },
                        new RuleOptions { When = new() { ["Role"] = "doctor" }, Grant = new GrantOptions { Claims = new() { ["department"] = "medicine" } } },
                    ],
                },
            ],
            Credentials =
            [
                new Tessera.Credentials.CredentialOptions
                {
                    Id = AgeCredentialId,
                    DisplayName = "Proof of age",
                    Vct = ageVct,
                    Organizations = ["demo-hospital"],
                    Claims = new(StringComparer.Ordinal) { ["age_equal_or_over"] = new() { From = "birthdate", Thresholds = [18, 21] } },
                    Disclosable = ["age_equal_or_over"],
                    Lifetime = TimeSpan.FromDays(30),
                },
            ],
            // Tessera's verifier always trusts Tessera's own credentials: no TrustedCredentialIssuers entry is needed.
            Presentations =
            [
                new Tessera.Credentials.PresentationOptions
                {
                    Id = Over21PresentationId,
                    Query = new JsonObject
                    {
                        ["credentials"] = new JsonArray(new JsonObject
                        {
                            ["id"] = AgeCredentialId,
                            ["format"] = "dc+sd-jwt",
                            ["meta"] = new JsonObject { ["vct_values"] = new JsonArray(ageVct) },
                            ["claims"] = new JsonArray(new JsonObject
                            {
                                ["path"] = new JsonArray("age_equal_or_over", "21"),
                                ["values"] = new JsonArray(true),
                            }),
                        }),
                    }.ToJsonString(),
                    Clients = [AgeCheckClientId],
                    Claims = new(StringComparer.Ordinal) { ["age_over_21"] = ["age_equal_or_over", "21"] },
                    Lifetime = TimeSpan.FromMinutes(5),
                },
            ],
        };
        TesseraOptionsDefaults.Apply(options);
        var compiled = ConfigurationCompiler.Compile(options);
        return compiled.Model ?? throw new InvalidOperationException("The demo configuration does not compile: " + string.Join("; ", compiled.Errors.Select(e => e.Format(null))));
    }

    /// <summary>The demo keeps its key-encryption key next to its database, so restarts keep their signing keys.</summary>
    private static string LoadOrCreateKey(string path)
    {
        if (File.Exists(path) && KeyEncryptionKey.TryParse(File.ReadAllText(path), out _))
        {
            return File.ReadAllText(path).Trim();
        }

        var key = KeyEncryptionKey.Generate();
        File.WriteAllText(path, key);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return key;
    }
}
