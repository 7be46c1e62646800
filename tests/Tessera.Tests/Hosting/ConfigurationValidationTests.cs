using Tessera.Hosting;
using Tessera.Keys;

namespace Tessera.Tests.Hosting;

/// <summary>A bad configuration is refused whole, each error with its JSON path and reason.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConfigurationValidationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tessera-config-" + Guid.NewGuid().ToString("N"));

    public ConfigurationValidationTests() => System.IO.Directory.CreateDirectory(_directory);

    public void Dispose() => System.IO.Directory.Delete(_directory, recursive: true);

    private static readonly string Kek = KeyEncryptionKey.Generate();

    private const string Valid = """
        {
          "Tessera": {
            "Issuer": "https://login.example.com",
            "Storage": { "Provider": "Postgres", "ConnectionString": "Host=db;Database=tessera" },
            "Keys": { "EncryptionKey": "env:TEST_KEK" },
            "Clients": [
              { "ClientId": "reports-web", "Type": "public",
                "RedirectUris": ["https://reports.example/callback"],
                "GrantTypes": ["authorization_code", "refresh_token"],
                "Scopes": ["openid", "profile", "email", "offline_access", "read:reports"] },
              { "ClientId": "orders-service", "Type": "confidential", "ClientSecret": "env:ORDERS_SECRET",
                "GrantTypes": ["client_credentials"], "Scopes": ["write:orders"], "Audiences": ["https://orders.internal"] }
            ],
            "Organizations": [
              { "Id": "st-marys", "DisplayName": "St Mary's Hospital", "Domains": ["stmarys.example"],
                "Connections": [
                  { "Id": "stmarys-oidc", "Protocol": "oidc", "Authority": "https://idp.stmarys.example",
                    "ClientId": "tessera", "ClientSecret": "env:STMARYS_SECRET", "Scopes": ["openid", "email", "profile"] }
                ],
                "Rules": [ { "When": { "groups": "Doctors" }, "Grant": { "Scopes": ["doctor_access"] } } ] }
            ]
          }
        }
        """;

    private static string? Environment(string name) => name switch
    {
        "TEST_KEK" => Kek,
        "ORDERS_SECRET" => "orders-secret-0123456789",
        "STMARYS_SECRET" => "stmarys-secret-0123456789",
        _ => null,
    };

    private CompiledConfiguration Load(string json)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return ConfigurationCompiler.CompileFile(path, environment: Environment);
    }

    /// <summary>Applies a text replacement to the valid file; the replaced text must exist.</summary>
    private static string Edit(string from, string to)
    {
        Assert.Contains(from, Valid, StringComparison.Ordinal);
        return Valid.Replace(from, to, StringComparison.Ordinal);
    }

    [Fact]
    public void The_documented_shape_loads_with_secrets_from_the_environment()
    {
        var result = Load(Valid);

        Assert.True(result.Succeeded, string.Join("; ", result.Errors));
        var options = result.Model!.Declared;
        Assert.Equal("orders-secret-0123456789", options.Clients[1].ClientSecret);
        Assert.Equal(StorageProvider.Postgres, options.Storage.Provider);
        Assert.Equal(["openid", "email", "profile"], options.Organizations[0].Connections[0].Scopes);
        Assert.Equal(["RS256", "ES256", "PS256"], options.Organizations[0].Connections[0].AllowedAlgorithms);
        Assert.Equal("Doctors", options.Organizations[0].Rules[0].When["groups"]);
    }

    public static TheoryData<string, string, string, string> Rows => new()
    {
        // what is wrong, from, to, expected "path: reason" fragment
        { "issuer over plain http", "\"https://login.example.com\"", "\"http://login.example.com\"", "$.Tessera.Issuer: must use https" },
        { "issuer with a query", "\"https://login.example.com\"", "\"https://login.example.com/?a=b\"", "$.Tessera.Issuer: must not have a query" },
        { "relative issuer", "\"https://login.example.com\"", "\"/login\"", "$.Tessera.Issuer: must be an absolute" },
        { "token body limit below a kilobyte", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"RequestLimits\": { \"MaxBodyBytes\": { \"Token\": 100 } },", "$.Tessera.RequestLimits.MaxBodyBytes.Token: must be between 1024" },
        { "SCIM body limit above sixteen megabytes", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"RequestLimits\": { \"MaxBodyBytes\": { \"Scim\": 99999999 } },", "$.Tessera.RequestLimits.MaxBodyBytes.Scim: must be between 1024" },
        { "ACS limit too small for the largest SAML Response", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"RequestLimits\": { \"MaxBodyBytes\": { \"SamlAcs\": 65536 } },", "$.Tessera.RequestLimits.MaxBodyBytes.SamlAcs: must be at least 393216" },
        { "token parameters longer than the token body", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"RequestLimits\": { \"MaxBodyBytes\": { \"Token\": 8192 } },", "$.Tessera.RequestLimits.MaxTokenParameterLength: must be at least 1024 and at most MaxBodyBytes.Token" },
        { "other parameters longer than token parameters", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"RequestLimits\": { \"MaxParameterLength\": 20000 },", "$.Tessera.RequestLimits.MaxParameterLength: must be at least 256" },
        { "too few parameters for any OAuth request", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"RequestLimits\": { \"MaxParameters\": 2 },", "$.Tessera.RequestLimits.MaxParameters: must be between 8 and 1000" },
        { "a body limit that is not a number", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"RequestLimits\": { \"MaxBodyBytes\": { \"Pages\": \"big\" } },", "$.Tessera.RequestLimits.MaxBodyBytes.Pages" },
        { "issuer path with an escaped character", "\"https://login.example.com\"", "\"https://login.example.com/tenant%20a\"", "$.Tessera.Issuer: a path must be plain segments" },
        { "issuer path with an empty segment", "\"https://login.example.com\"", "\"https://login.example.com/tenant-a//idp\"", "$.Tessera.Issuer: a path must be plain segments" },
        { "duration written as a bare number", "\"Protocol\": \"oidc\",", "\"Protocol\": \"oidc\", \"ClockSkew\": \"60\",", "$.Tessera.Organizations[0].Connections[0].ClockSkew: '60' is not a valid duration" },
        { "rule overriding the email", "\"Grant\": { \"Scopes\": [\"doctor_access\"] }", "\"Grant\": { \"Claims\": { \"email\": \"ceo@stmarys.example\" } }", "$.Tessera.Organizations[0].Rules[0].Grant.Claims.email: this claim is set by Tessera" },
        { "unknown storage provider", "\"Postgres\"", "\"Oracle\"", "$.Tessera.Storage.Provider: 'Oracle' is not a valid choice" },
        { "missing secret in the environment", "env:ORDERS_SECRET", "env:NOT_SET_ANYWHERE", "$.Tessera.Clients[1].ClientSecret: environment variable 'NOT_SET_ANYWHERE' is not set" },
        { "key-encryption key of the wrong size", "env:TEST_KEK", "c2hvcnQ=", "$.Tessera.Keys.EncryptionKey: must be base64 of exactly 32 bytes" },
        { "misspelled setting", "\"RedirectUris\"", "\"RedirectUri\"", "$.Tessera.Clients[0].RedirectUri: unknown setting 'RedirectUri'" },
        { "unknown top-level section", "\"Storage\":", "\"Storrage\":", "$.Tessera.Storrage: unknown setting" },
        { "list where one value is expected", "\"Type\": \"public\"", "\"Type\": [\"public\"]", "$.Tessera.Clients[0].Type: expected a single value" },
        { "single value where a list is expected", "\"Domains\": [\"stmarys.example\"]", "\"Domains\": \"stmarys.example\"", "$.Tessera.Organizations[0].Domains: expected a JSON array" },
        { "duration that is not one", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\", \"RotationPeriod\": \"soon\" }", "$.Tessera.Keys.RotationPeriod: 'soon' is not a valid duration" },
        { "unknown client type", "\"Type\": \"public\"", "\"Type\": \"spa\"", "$.Tessera.Clients[0].Type: must be 'public' or 'confidential'" },
        { "public client with a secret", "\"Type\": \"public\",", "\"Type\": \"public\", \"ClientSecret\": \"a-secret-of-some-length\",", "$.Tessera.Clients[0].ClientSecret: a public client has no credentials" },
        { "confidential client without credentials", ", \"ClientSecret\": \"env:ORDERS_SECRET\"", "", "$.Tessera.Clients[1].ClientSecret: a confidential client needs" },
        { "short client secret", "env:ORDERS_SECRET", "short", "$.Tessera.Clients[1].ClientSecret: must be at least 16 characters" },
        { "duplicate client id", "\"ClientId\": \"orders-service\"", "\"ClientId\": \"reports-web\"", "$.Tessera.Clients[1].ClientId: 'reports-web' is declared more than once" },
        { "implicit grant", "[\"client_credentials\"]", "[\"implicit\"]", "$.Tessera.Clients[1].GrantTypes[0]: unsupported grant type 'implicit'" },
        { "password grant", "[\"client_credentials\"]", "[\"password\"]", "$.Tessera.Clients[1].GrantTypes[0]: unsupported grant type 'password'" },
        { "public client with client credentials", "[\"authorization_code\", \"refresh_token\"]", "[\"authorization_code\", \"refresh_token\", \"client_credentials\"]", "$.Tessera.Clients[0].GrantTypes[2]: a public client cannot use client_credentials" },
        { "authorization code without redirect URIs", "\"RedirectUris\": [\"https://reports.example/callback\"],", "", "$.Tessera.Clients[0].RedirectUris: authorization_code needs at least one redirect URI" },
        { "redirect URI over plain http off loopback", "https://reports.example/callback", "http://reports.example/callback", "$.Tessera.Clients[0].RedirectUris[0]: must use https unless" },
        { "redirect URI with a fragment", "https://reports.example/callback", "https://reports.example/callback#x", "$.Tessera.Clients[0].RedirectUris[0]: must not contain a fragment" },
        { "relative redirect URI", "https://reports.example/callback", "/callback", "$.Tessera.Clients[0].RedirectUris[0]: must be an absolute URI" },
        { "javascript redirect URI", "https://reports.example/callback", "javascript:alert(1)", "$.Tessera.Clients[0].RedirectUris[0]: the scheme 'javascript' is not allowed" },
        { "file redirect URI", "https://reports.example/callback", "file:///etc/passwd", "$.Tessera.Clients[0].RedirectUris[0]: the scheme 'file' is not allowed" },
        { "wildcard scope", "\"write:orders\"", "\"write:*\"", "$.Tessera.Clients[1].Scopes[0]: wildcard scopes do not exist" },
        { "scope with a space", "\"write:orders\"", "\"write orders\"", "$.Tessera.Clients[1].Scopes[0]: is not a valid scope token" },
        { "wildcard audience", "\"https://orders.internal\"", "\"*\"", "$.Tessera.Clients[1].Audiences[0]: must be a non-empty identifier" },
        { "unknown signing algorithm", "\"Type\": \"public\",", "\"Type\": \"public\", \"SigningAlgorithm\": \"HS256\",", "$.Tessera.Clients[0].SigningAlgorithm: must be ES256 or RS256" },
        { "public client with token exchange", "[\"authorization_code\", \"refresh_token\"]", "[\"authorization_code\", \"refresh_token\", \"urn:ietf:params:oauth:grant-type:token-exchange\"]", "$.Tessera.Clients[0].GrantTypes[2]: a public client cannot use urn:ietf:params:oauth:grant-type:token-exchange" },
        { "domain that is not one", "\"stmarys.example\"", "\"not a domain\"", "$.Tessera.Organizations[0].Domains[0]: is not a domain name" },
        { "connection over plain http", "\"https://idp.stmarys.example\"", "\"http://idp.stmarys.example\"", "$.Tessera.Organizations[0].Connections[0].Authority: must use https" },
        { "connection authority on loopback", "\"https://idp.stmarys.example\"", "\"http://127.0.0.1:8080\"", "$.Tessera.Organizations[0].Connections[0].Authority: points at a private or loopback address; set Network.AllowPrivateUpstreams to true to allow it (tests, development)" },
        { "connection authority at localhost", "\"https://idp.stmarys.example\"", "\"https://localhost:8443\"", "$.Tessera.Organizations[0].Connections[0].Authority: points at a private or loopback address" },
        { "connection authority on IPv6 loopback", "\"https://idp.stmarys.example\"", "\"http://[::1]:8080\"", "$.Tessera.Organizations[0].Connections[0].Authority: points at a private or loopback address" },
        { "connection authority on the cloud metadata address", "\"https://idp.stmarys.example\"", "\"https://169.254.169.254/latest\"", "$.Tessera.Organizations[0].Connections[0].Authority: points at a private or loopback address" },
        { "connection authority on an RFC 1918 address", "\"https://idp.stmarys.example\"", "\"https://10.0.0.5/realms/stmarys\"", "$.Tessera.Organizations[0].Connections[0].Authority: points at a private or loopback address" },
        { "connection authority on loopback spelled as one number", "\"https://idp.stmarys.example\"", "\"https://2130706433\"", "$.Tessera.Organizations[0].Connections[0].Authority: points at a private or loopback address" },
        { "private upstreams allowed by a word", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Network\": { \"AllowPrivateUpstreams\": \"yes\" },", "$.Tessera.Network.AllowPrivateUpstreams: 'yes' is not a valid boolean" },
        { "connection without upstream client id", "\"ClientId\": \"tessera\",", "", "$.Tessera.Organizations[0].Connections[0].ClientId: the client id registered at the upstream IdP is required" },
        { "upstream HMAC algorithm", "\"Scopes\": [\"openid\", \"email\", \"profile\"] }", "\"Scopes\": [\"openid\"], \"AllowedAlgorithms\": [\"HS256\"] }", "$.Tessera.Organizations[0].Connections[0].AllowedAlgorithms[0]: 'HS256' is not allowed" },
        { "upstream alg none", "\"Scopes\": [\"openid\", \"email\", \"profile\"] }", "\"Scopes\": [\"openid\"], \"AllowedAlgorithms\": [\"none\"] }", "$.Tessera.Organizations[0].Connections[0].AllowedAlgorithms[0]: 'none' is not allowed" },
        { "upstream scopes without openid", "\"Scopes\": [\"openid\", \"email\", \"profile\"] }", "\"Scopes\": [\"email\"] }", "$.Tessera.Organizations[0].Connections[0].Scopes: must include 'openid'" },
        { "unknown protocol", "\"Protocol\": \"oidc\"", "\"Protocol\": \"ldap\"", "$.Tessera.Organizations[0].Connections[0].Protocol: must be 'oidc'" },
        { "SAML connection without IdP trust", "\"Protocol\": \"oidc\"", "\"Protocol\": \"saml2\"", "$.Tessera.Organizations[0].Connections[0]: a SAML connection needs exactly one of MetadataXml, MetadataUrl" },
        { "skew beyond five minutes", "\"Protocol\": \"oidc\",", "\"Protocol\": \"oidc\", \"ClockSkew\": \"00:10:00\",", "$.Tessera.Organizations[0].Connections[0].ClockSkew: must be between 0 and 5 minutes" },
        { "rule without conditions", "\"When\": { \"groups\": \"Doctors\" }", "\"When\": { }", "$.Tessera.Organizations[0].Rules[0].When: a rule needs at least one condition" },
        { "rule granting a wildcard", "\"Scopes\": [\"doctor_access\"]", "\"Scopes\": [\"doctor:*\"]", "$.Tessera.Organizations[0].Rules[0].Grant.Scopes[0]: wildcard scopes do not exist" },
        { "rule overriding the subject", "\"Grant\": { \"Scopes\": [\"doctor_access\"] }", "\"Grant\": { \"Claims\": { \"sub\": \"admin\" } }", "$.Tessera.Organizations[0].Rules[0].Grant.Claims.sub: this claim is set by Tessera" },
        { "forwarding header nobody writes", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Network\": { \"ForwardedHeader\": \"X-Real-IP\" },", "$.Tessera.Network.ForwardedHeader: must be X-Forwarded-For or Forwarded" },
        { "anomaly rule that does not exist", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"Rules\": [ { \"Rule\": \"Teleport\", \"Action\": \"block\" } ] },", "$.Tessera.Anomaly.Rules[0].Rule: must be one of FailureBurst, ImpossibleTravel, NewCountry, TokenUsedElsewhere, TwoCountries" },
        { "failure burst that would disable someone", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"Rules\": [ { \"Rule\": \"FailureBurst\", \"Action\": \"disable\" } ] },", "$.Tessera.Anomaly.Rules[0].Action: FailureBurst takes log or block" },
        { "lockout ceiling below the lockout", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"Rules\": [ { \"Rule\": \"FailureBurst\", \"Action\": \"block\", \"Lockout\": \"00:10:00\", \"MaxLockout\": \"00:05:00\" } ] },", "$.Tessera.Anomaly.Rules[0].MaxLockout: must be at least Lockout" },
        { "negative failure limit", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"Rules\": [ { \"Rule\": \"FailureBurst\", \"Action\": \"block\", \"MaxFailuresPerClient\": -1 } ] },", "$.Tessera.Anomaly.Rules[0].MaxFailuresPerClient: must be between 0 (not counted) and 100000" },
        { "failure burst for one organization", "\"Rules\": [ { \"When\"", "\"Anomaly\": { \"Rules\": [ { \"Rule\": \"FailureBurst\", \"Action\": \"block\" } ] }, \"Rules\": [ { \"When\"", "$.Tessera.Organizations[0].Anomaly.Rules[0].Rule: FailureBurst is global" },
        { "anomaly action that does not exist", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"Rules\": [ { \"Rule\": \"TwoCountries\", \"Action\": \"shoot\" } ] },", "$.Tessera.Anomaly.Rules[0].Action: must be one of log, notify, challenge, block, revoke, disable" },
        { "travel speed no plane is slower than", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"Rules\": [ { \"Rule\": \"ImpossibleTravel\", \"Action\": \"log\", \"MaxSpeedKmh\": 5 } ] },", "$.Tessera.Anomaly.Rules[0].MaxSpeedKmh: must be between 100 and 100000" },
        { "a window of no time", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"Rules\": [ { \"Rule\": \"TwoCountries\", \"Action\": \"log\", \"Window\": \"00:00:00\" } ] },", "$.Tessera.Anomaly.Rules[0].Window: must be between one second and seven days" },
        { "GeoIP database that is not there", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"GeoDatabase\": \"/nowhere/city.mmdb\" },", "$.Tessera.Anomaly.GeoDatabase: the GeoIP database file does not exist" },
        { "trusted proxy that is not an address", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Network\": { \"TrustedProxies\": [\"the load balancer\"] },", "$.Tessera.Network.TrustedProxies[0]: must be an IP address or a CIDR range" },
        { "country header believed from anyone", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Anomaly\": { \"GeoHeaders\": { \"Country\": \"CF-IPCountry\" } },", "$.Tessera.Anomaly.GeoHeaders.Country: location headers are believed only from trusted proxies" },
        { "exempt network that is not one", "\"Rules\": [ { \"When\"", "\"Anomaly\": { \"ExemptNetworks\": [\"10.0.0.0/33\"] }, \"Rules\": [ { \"When\"", "$.Tessera.Organizations[0].Anomaly.ExemptNetworks[0]: must be an IP address or a CIDR range" },
        { "audit checkpoint after zero rows", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"CheckpointEvery\": 0 },", "$.Tessera.Audit.CheckpointEvery: must be between 1 and 1000000 rows" },
        { "audit checkpoint after more rows than it can bound", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"CheckpointEvery\": 5000000 },", "$.Tessera.Audit.CheckpointEvery: must be between 1 and 1000000 rows" },
        { "audit checkpoint every few milliseconds", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"CheckpointInterval\": \"00:00:00.010\" },", "$.Tessera.Audit.CheckpointInterval: must be between 00:00:01 and 1.00:00:00" },
        { "audit checkpoint once a week", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"CheckpointInterval\": \"7.00:00:00\" },", "$.Tessera.Audit.CheckpointInterval: must be between 00:00:01 and 1.00:00:00" },
        { "audit retention of an hour", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Retention\": \"01:00:00\" },", "$.Tessera.Audit.Retention: must be between 1.00:00:00 and 36500.00:00:00, or left out to keep every row" },
        { "audit retention written as a bare number", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Retention\": \"90\" },", "$.Tessera.Audit.Retention: '90' is not a valid duration" },
        { "audit checkpoint count that is not a number", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"CheckpointEvery\": \"often\" },", "$.Tessera.Audit.CheckpointEvery" },
        { "audit stream without an endpoint", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Streams\": [ { \"Id\": \"siem\" } ] },", "$.Tessera.Audit.Streams[0].Endpoint: the URL batches are posted to is required" },
        { "audit stream over plain http off loopback", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Streams\": [ { \"Id\": \"siem\", \"Endpoint\": \"http://siem.example.com/ingest\" } ] },", "$.Tessera.Audit.Streams[0].Endpoint: must use https unless the host is a loopback address" },
        { "audit stream in a format nobody reads", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Streams\": [ { \"Id\": \"siem\", \"Endpoint\": \"https://siem.example.com/ingest\", \"Format\": \"cef\" } ] },", "$.Tessera.Audit.Streams[0].Format: must be one of jsonl, ocsf" },
        { "two audit streams with one id", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Streams\": [ { \"Id\": \"siem\", \"Endpoint\": \"https://siem.example.com/a\" }, { \"Id\": \"siem\", \"Endpoint\": \"https://siem.example.com/b\" } ] },", "$.Tessera.Audit.Streams[1].Id: 'siem' is used by another stream" },
        { "audit stream of an event that is no event name", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Streams\": [ { \"Id\": \"siem\", \"Endpoint\": \"https://siem.example.com/ingest\", \"Events\": [ \"*\" ] } ] },", "$.Tessera.Audit.Streams[0].Events[0]: must be an event name such as signin.succeeded, or a family such as signin.*" },
        { "audit stream with empty batches", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Streams\": [ { \"Id\": \"siem\", \"Endpoint\": \"https://siem.example.com/ingest\", \"BatchSize\": 0 } ] },", "$.Tessera.Audit.Streams[0].BatchSize: must be between 1 and 5000 rows" },
        { "audit stream starting nowhere", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"Streams\": [ { \"Id\": \"siem\", \"Endpoint\": \"https://siem.example.com/ingest\", \"From\": \"yesterday\" } ] },", "$.Tessera.Audit.Streams[0].From: must be 'beginning' or 'now'" },
        { "misspelled audit setting", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },", "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"CheckpointEach\": 10 },", "$.Tessera.Audit.CheckpointEach: unknown setting" },
        { "demo flag in a real configuration file", "\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Development\": { \"Demo\": \"maybe\" },", "$.Tessera.Development.Demo: 'maybe' is not a valid boolean" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_bad_configuration_is_refused_with_path_and_reason(string problem, string from, string to, string expected)
    {
        var result = Load(Edit(from, to));

        Assert.False(result.Succeeded, problem);
        Assert.Null(result.Model);
        var formatted = result.Errors.Select(e => e.Format(null)).ToList();
        Assert.True(formatted.Any(e => e.StartsWith(expected, StringComparison.Ordinal) || e.Contains(expected, StringComparison.Ordinal)),
            $"{problem}: expected '{expected}', got: {string.Join(" | ", formatted)}");
    }

    [Fact]
    public void The_sample_configuration_in_the_repository_is_valid()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Tessera.slnx")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        }

        var result = ConfigurationCompiler.CompileFile(Path.Combine(root, "samples", "tessera.json"), forServe: true, environment: name =>
            name == "TESSERA_KEY_ENCRYPTION_KEY" ? Kek : name.EndsWith("_SECRET", StringComparison.Ordinal) ? "a-secret-from-the-environment" : null);

        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Format("samples/tessera.json"))));
    }

    [Fact]
    public void Audit_settings_default_to_a_checkpoint_every_thousand_rows_or_five_minutes_and_keeping_every_row()
    {
        var defaults = Load(Valid).Model!.Audit;
        var set = Load(Edit("\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" },",
            "\"Keys\": { \"EncryptionKey\": \"env:TEST_KEK\" }, \"Audit\": { \"CheckpointEvery\": 50, \"CheckpointInterval\": \"00:00:30\", \"Retention\": \"400.00:00:00\" },"));

        Assert.Equal((1000, TimeSpan.FromMinutes(5), (TimeSpan?)null), (defaults.CheckpointEvery, defaults.CheckpointInterval, defaults.Retention));
        Assert.True(set.Succeeded, string.Join("; ", set.Errors));
        Assert.Equal((50, TimeSpan.FromSeconds(30), (TimeSpan?)TimeSpan.FromDays(400)), (set.Model!.Audit.CheckpointEvery, set.Model.Audit.CheckpointInterval, set.Model.Audit.Retention));
    }

    [Fact]
    public void A_loopback_authority_is_accepted_when_private_upstreams_are_allowed()
    {
        var result = Load(Edit("\"https://idp.stmarys.example\"", "\"http://127.0.0.1:8080\"")
            .Replace("\"Issuer\": \"https://login.example.com\",", "\"Issuer\": \"https://login.example.com\", \"Network\": { \"AllowPrivateUpstreams\": true },", StringComparison.Ordinal));

        Assert.True(result.Succeeded, string.Join("; ", result.Errors));
        Assert.True(result.Model!.Network.AllowPrivateUpstreams);
    }

    [Fact]
    public void Every_error_in_a_file_is_reported_at_once()
    {
        var result = Load(Edit("\"https://login.example.com\"", "\"http://login.example.com\"").Replace("\"write:orders\"", "\"*\"", StringComparison.Ordinal));

        Assert.Equal(2, result.Errors.Count);
    }

    [Fact]
    public void Broken_JSON_is_refused_with_line_and_position()
    {
        var result = Load("{\n  \"Tessera\": {\n    \"Issuer\": \"https://x.example\",,\n  }\n}");

        var error = Assert.Single(result.Errors);
        Assert.Equal("$", error.Path);
        Assert.Contains("line 3", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_or_section_is_refused()
    {
        Assert.Equal("the file does not exist", Assert.Single(ConfigurationLoader.LoadFile(Path.Combine(_directory, "absent.json")).Errors).Reason);
        Assert.Equal("$.Tessera", Assert.Single(Load("{ \"Other\": {} }").Errors).Path);
    }

    [Fact]
    public void Errors_name_the_file()
    {
        var path = Path.Combine(_directory, "named.json");
        File.WriteAllText(path, Edit("\"Type\": \"public\"", "\"Type\": \"spa\""));

        var result = ConfigurationCompiler.CompileFile(path, environment: Environment);

        Assert.StartsWith($"{path}: $.Tessera.Clients[0].Type: ", result.Errors.Single().Format(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variables_override_the_file()
    {
        var path = Path.Combine(_directory, "override.json");
        File.WriteAllText(path, Valid);

        var result = ConfigurationCompiler.CompileFile(path, overrides: new Dictionary<string, string?> { ["Tessera:Issuer"] = "https://override.example" }, environment: Environment);

        Assert.Equal("https://override.example/", result.Model!.Issuer.Name);
    }

    [Fact]
    public async Task The_cli_validates_without_starting_and_exits_2_on_a_bad_file()
    {
        var good = Path.Combine(_directory, "good.json");
        var bad = Path.Combine(_directory, "bad.json");
        File.WriteAllText(good, Valid.Replace("env:TEST_KEK", Kek, StringComparison.Ordinal).Replace("env:ORDERS_SECRET", "orders-secret-0123456789", StringComparison.Ordinal).Replace("env:STMARYS_SECRET", "stmarys-secret-0123456789", StringComparison.Ordinal));
        File.WriteAllText(bad, "{ \"Tessera\": { \"Issuer\": \"nope\" } }");
        var error = new StringWriter();
        var originalError = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(0, await TesseraCli.InvokeAsync(["config", "validate", good]));
            Assert.Equal(TesseraCli.ConfigurationRefused, await TesseraCli.InvokeAsync(["config", "validate", bad]));
            Assert.Equal(TesseraCli.ConfigurationRefused, await TesseraCli.InvokeAsync(["serve", "--config", bad]));
            var demo = Path.Combine(_directory, "demo.json");
            File.WriteAllText(demo, File.ReadAllText(good).Replace("\"Storage\":", "\"Development\": { \"Demo\": true }, \"Storage\":", StringComparison.Ordinal));
            Assert.Equal(TesseraCli.ConfigurationRefused, await TesseraCli.InvokeAsync(["config", "validate", demo]));
        }
        finally
        {
            Console.SetError(originalError);
        }

        Assert.Contains($"{bad}: $.Tessera.Issuer: must be an absolute http(s) URL", error.ToString(), StringComparison.Ordinal);
    }
}
