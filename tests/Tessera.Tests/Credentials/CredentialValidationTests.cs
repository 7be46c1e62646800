using Tessera.Credentials;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Credentials;

/// <summary>Credential configurations and trusted credential issuers are checked the way issuing and verifying read them; each mistake is named with its path.</summary>
public sealed class CredentialValidationTests
{
    private const string Credential = "$.Tessera.Credentials[0]";
    private const string Issuer = "$.Tessera.TrustedCredentialIssuers[0]";
    private const string Presentation = "$.Tessera.Presentations[0]";

    private static TesseraOptions Options(Action<TesseraOptions> change)
    {
        var options = TestConfiguration.Create(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = "Data Source=x.db" });
        options.Network.AllowPrivateUpstreams = false;
        options.Organizations.Add(new OrganizationOptions
        {
            Id = TestConfiguration.Organization,
            Connections = [new ConnectionOptions { Id = "stmarys-oidc", Protocol = "oidc", Authority = "https://idp.stmarys.example", ClientId = "tessera", ClientSecret = "upstream-secret-0123456789" }],
        });
        options.Credentials.Add(new CredentialOptions
        {
            Id = "age",
            Vct = "https://tessera.example/vct/age",
            Organizations = [TestConfiguration.Organization],
            Claims = new() { ["age_equal_or_over"] = new CredentialClaimOptions { From = "birthdate", Thresholds = [18, 21] } },
            Disclosable = ["age_equal_or_over"],
        });
        options.TrustedCredentialIssuers.Add(new TrustedCredentialIssuerOptions
        {
            Id = "state-dmv",
            Issuer = "https://dmv.state.example",
            Vcts = ["https://dmv.state.example/vct/age"],
        });
        options.Presentations.Add(new PresentationOptions
        {
            Id = "over-21",
            Query = """{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["https://tessera.example/vct/age"]},"claims":[{"path":["age_equal_or_over","21"]}]}]}""",
            Clients = [TestConfiguration.WebClient],
            Claims = new() { ["age_over_21"] = ["age_equal_or_over", "21"] },
        });
        change(options);
        TesseraOptionsDefaults.Apply(options);
        return options;
    }

    private static CredentialOptions First(TesseraOptions o) => o.Credentials[0];

    private static TrustedCredentialIssuerOptions Trusted(TesseraOptions o) => o.TrustedCredentialIssuers[0];

    private static PresentationOptions Asked(TesseraOptions o) => o.Presentations[0];

    public static TheoryData<string, Action<TesseraOptions>, string> Rows => new()
    {
        { "credential id with a space", o => First(o).Id = "age card", $"{Credential}.Id: must be 1-100 characters" },
        { "credential declared twice", o => o.Credentials.Add(new CredentialOptions { Id = "age", Vct = "https://x.example/vct", Organizations = ["st-marys"], Claims = new() { ["email"] = new() { From = "email" } } }), "$.Tessera.Credentials[1].Id: 'age' is declared more than once" },
        { "vct that is not a URI", o => First(o).Vct = "age", $"{Credential}.Vct: must be an absolute URI" },
        { "two credentials of one vct", o => o.Credentials.Add(new CredentialOptions { Id = "age2", Vct = "https://tessera.example/vct/age", Organizations = ["st-marys"], Claims = new() { ["email"] = new() { From = "email" } } }), "$.Tessera.Credentials[1].Vct: another credential already has this vct" },
        { "credential for nobody", o => First(o).Organizations = [], $"{Credential}.Organizations: name the organizations" },
        { "credential for an unknown organization", o => First(o).Organizations = ["nowhere"], $"{Credential}.Organizations[0]: no organization 'nowhere'" },
        { "credential with no claims", o => First(o).Claims.Clear(), $"{Credential}.Claims: a credential carries at least one claim" },
        { "claim overriding the issuer", o => First(o).Claims["iss"] = new() { From = "email" }, $"{Credential}.Claims.iss: 'iss' is set by the issuer" },
        { "claim smuggling a holder key", o => First(o).Claims["cnf"] = new() { From = "email" }, $"{Credential}.Claims.cnf: 'cnf' is set by the issuer" },
        { "claim named like a digest array", o => First(o).Claims["_sd"] = new() { From = "email" }, $"{Credential}.Claims._sd: '_sd' is set by the issuer" },
        { "claim from nowhere", o => First(o).Claims["role"] = new() { From = "" }, $"{Credential}.Claims.role.From: name the user attribute" },
        { "age threshold of zero", o => First(o).Claims["age_equal_or_over"].Thresholds = [0, 21], $"{Credential}.Claims.age_equal_or_over.Thresholds[0]: must be an age from 1 to 150" },
        { "age threshold twice", o => First(o).Claims["age_equal_or_over"].Thresholds = [21, 21], $"{Credential}.Claims.age_equal_or_over.Thresholds[1]: is listed twice" },
        { "disclosable claim that does not exist", o => First(o).Disclosable = ["birthdate"], $"{Credential}.Disclosable[0]: 'birthdate' is not one of the credential's Claims" },
        { "lifetime of a second", o => First(o).Lifetime = TimeSpan.FromSeconds(1), $"{Credential}.Lifetime: must be between 5 minutes and 10 years" },
        { "wildcard scope", o => First(o).Scope = "credential:*", $"{Credential}.Scope: wildcard scopes do not exist" },
        { "two credentials on one scope", o => o.Credentials.Add(new CredentialOptions { Id = "other", Vct = "https://x.example/vct", Scope = "credential:age", Organizations = ["st-marys"], Claims = new() { ["email"] = new() { From = "email" } } }), $"{Credential}.Scope: 'credential:age' is the scope of another credential too" },
        { "HMAC-signed credentials", o => First(o).SigningAlgorithm = "HS256", $"{Credential}.SigningAlgorithm: must be ES256 or RS256" },
        { "issuer id reserved for Tessera", o => Trusted(o).Id = "tessera", $"{Issuer}.Id: 'tessera' stands for Tessera's own credentials" },
        { "issuer over plain http", o => Trusted(o).Issuer = "http://dmv.state.example", $"{Issuer}.Issuer: must be the issuer's absolute https URL" },
        { "Tessera trusting itself", o => Trusted(o).Issuer = o.Issuer, $"{Issuer}.Issuer: is Tessera itself" },
        { "issuer declared twice", o => o.TrustedCredentialIssuers.Add(new TrustedCredentialIssuerOptions { Id = "state-dmv", Issuer = "https://b.example", Vcts = ["x:y"] }), "$.Tessera.TrustedCredentialIssuers[1].Id: 'state-dmv' is declared more than once" },
        { "metadata fetched from loopback", o => Trusted(o).Issuer = "http://127.0.0.1:9000", $"{Issuer}.Issuer: points at a private or loopback address" },
        { "metadata fetched from the cloud metadata address", o => Trusted(o).Issuer = "https://169.254.169.254", $"{Issuer}.Issuer: points at a private or loopback address" },
        { "issuer of no credential type", o => Trusted(o).Vcts = [], $"{Issuer}.Vcts: name the credential types" },
        { "inline keys that are not a key set", o => Trusted(o).Jwks = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}", $"{Issuer}.Jwks: must be a JWK Set of public EC or RSA keys" },
        { "inline keys that are not JSON", o => Trusted(o).Jwks = "not json", $"{Issuer}.Jwks: must be a JWK Set" },
        { "alg none from a credential issuer", o => Trusted(o).AllowedAlgorithms = ["none"], $"{Issuer}.AllowedAlgorithms[0]: 'none' is not allowed" },
        { "HMAC from a credential issuer", o => Trusted(o).AllowedAlgorithms = ["HS256"], $"{Issuer}.AllowedAlgorithms[0]: 'HS256' is not allowed" },
        { "skew beyond five minutes", o => Trusted(o).ClockSkew = TimeSpan.FromMinutes(30), $"{Issuer}.ClockSkew: must be between 0 and 5 minutes" },
        { "presentation id with a space", o => Asked(o).Id = "over 21", $"{Presentation}.Id: must be 1-100 characters" },
        { "presentation declared twice", o => o.Presentations.Add(new PresentationOptions { Id = "over-21", Query = Asked(o).Query, Clients = [TestConfiguration.WebClient], Claims = new() { ["x"] = ["age_equal_or_over", "21"] } }), "$.Tessera.Presentations[1].Id: 'over-21' is declared more than once" },
        { "query that is not JSON", o => Asked(o).Query = "{not json", $"{Presentation}.Query: is not a DCQL query Tessera can answer" },
        { "query without credentials", o => Asked(o).Query = """{"credentials":[]}""", $"{Presentation}.Query: is not a DCQL query Tessera can answer" },
        { "query for a format Tessera does not verify", o => Asked(o).Query = """{"credentials":[{"id":"age","format":"mso_mdoc","meta":{"doctype_value":"org.iso.18013.5.1.mDL"}}]}""", $"{Presentation}.Query" },
        { "query for a vct nobody trusted issues", o => Asked(o).Query = """{"credentials":[{"id":"age","format":"dc+sd-jwt","meta":{"vct_values":["https://evil.example/vct"]},"claims":[{"path":["age_equal_or_over","21"]}]}]}""", $"{Presentation}.Query.credentials[0].meta.vct_values: 'https://evil.example/vct' is neither" },
        { "presentation no client may ask for", o => Asked(o).Clients = [], $"{Presentation}.Clients: name the clients" },
        { "presentation for an unknown client", o => Asked(o).Clients = ["nobody"], $"{Presentation}.Clients[0]: no client 'nobody' is declared" },
        { "presentation for a public client", o => Asked(o).Clients = [TestConfiguration.PublicClient], $"{Presentation}.Clients[0]: '{TestConfiguration.PublicClient}' is a public client" },
        { "presentation mapping no claim", o => Asked(o).Claims.Clear(), $"{Presentation}.Claims: map at least one disclosed claim" },
        { "result claim overriding sub", o => Asked(o).Claims["sub"] = ["age_equal_or_over", "21"], $"{Presentation}.Claims.sub: 'sub' cannot be a result claim" },
        { "result claim from an empty path", o => Asked(o).Claims["age"] = [], $"{Presentation}.Claims.age: must be a claims path" },
        { "result claim the query never asks for", o => Asked(o).Claims["birthdate"] = ["birthdate"], $"{Presentation}.Claims.birthdate: is not a claims path the query asks for" },
        { "wallet given an hour", o => Asked(o).Lifetime = TimeSpan.FromHours(1), $"{Presentation}.Lifetime: must be between 1 and 30 minutes" },
        { "stale keys kept for a month", o => Trusted(o).Keys.StaleLifetime = TimeSpan.FromDays(30), $"{Issuer}.Keys.StaleLifetime: must be between 0 and 7 days" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_bad_credential_setting_is_refused_with_path_and_reason(string problem, Action<TesseraOptions> change, string expected)
    {
        var errors = ConfigurationCompiler.Compile(Options(change)).Errors.Select(e => e.Format(null)).ToList();

        Assert.True(errors.Any(e => e.StartsWith(expected, StringComparison.Ordinal)), $"{problem}: expected '{expected}', got: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void The_documented_shape_is_accepted_with_its_defaults()
    {
        var options = Options(_ => { });

        Assert.Empty(ConfigurationCompiler.Compile(options).Errors);
        Assert.Equal("credential:age", options.Credentials[0].EffectiveScope);
        Assert.Equal(TimeSpan.FromDays(30), options.Credentials[0].Lifetime);
        Assert.Equal(["ES256", "RS256"], options.TrustedCredentialIssuers[0].AllowedAlgorithms);
    }

    [Fact]
    public void The_shipped_credential_sample_is_valid()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Tessera.slnx")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        var result = ConfigurationCompiler.CompileFile(Path.Combine(root, "samples", "credentials.json"), forServe: true, environment: name => name switch
        {
            "TESSERA_KEY_ENCRYPTION_KEY" => Tessera.Keys.KeyEncryptionKey.Generate(),
            _ => "a-secret-value-from-the-environment",
        });

        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Format("samples/credentials.json"))));
        Assert.Equal(["employee", "age"], result.Model!.Declared.Credentials.Select(c => c.Id));
        Assert.Equal(["over-21"], result.Model.Verifier.Presentations.Keys.ToArray());

        // The query is inline JSON in the file: it is read back as written, so `values: [true]` stays a boolean and
        // the string "21" in a path stays a string (configuration alone keeps every value as text).
        var query = System.Text.Json.Nodes.JsonNode.Parse(result.Model.Declared.Presentations[0].Query)!["credentials"]![0]!["claims"]![0]!;
        Assert.Equal(System.Text.Json.JsonValueKind.True, query["values"]![0]!.GetValueKind());
        Assert.Equal(System.Text.Json.JsonValueKind.String, query["path"]![1]!.GetValueKind());
    }
}
