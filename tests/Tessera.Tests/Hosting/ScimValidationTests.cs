using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

/// <summary>An organization's <c>Scim</c> block is checked before anything starts; each mistake is named with its path.</summary>
public sealed class ScimValidationTests
{
    private const string StMarys = "$.Tessera.Organizations[0].Scim";
    private const string Clinic = "$.Tessera.Organizations[1].Scim";
    private static readonly string Token = "stmarys-scim-" + new string('a', 40);
    private static readonly string ClinicToken = "clinic-scim-" + new string('b', 40);

    private static TesseraOptions Options(Action<TesseraOptions> change)
    {
        var options = TestConfiguration.Create(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = "Data Source=x.db" });
        options.Organizations.Add(new OrganizationOptions { Id = TestConfiguration.Organization, Scim = new ScimOptions { Tokens = [Token] } });
        options.Organizations.Add(new OrganizationOptions { Id = "general-clinic", Scim = new ScimOptions { Tokens = [ClinicToken], Match = "externalId", RequireProvisioning = true } });
        change(options);
        TesseraOptionsDefaults.Apply(options);
        return options;
    }

    private static ScimOptions First(TesseraOptions o) => o.Organizations[0].Scim;

    public static TheoryData<string, Action<TesseraOptions>, string> Rows => new()
    {
        { "token short enough to guess", o => First(o).Tokens = ["0123456789abcdef0123456789abcde"], $"{StMarys}.Tokens[0]: must be at least 32 characters without spaces" },
        { "empty token", o => First(o).Tokens = [Token, ""], $"{StMarys}.Tokens[1]: must be at least 32 characters without spaces" },
        { "token with a space", o => First(o).Tokens = ["stmarys scim " + new string('a', 40)], $"{StMarys}.Tokens[0]: must be at least 32 characters without spaces" },
        { "token with a trailing newline", o => First(o).Tokens = [Token + "\n"], $"{StMarys}.Tokens[0]: must be at least 32 characters without spaces" },
        { "same token in two organizations", o => o.Organizations[1].Scim.Tokens = [ClinicToken, Token], $"{Clinic}.Tokens[1]: is already a SCIM token of this or another organization" },
        { "same token twice in one organization", o => First(o).Tokens = [Token, Token], $"{StMarys}.Tokens[1]: is already a SCIM token" },
        { "match on an unknown attribute", o => First(o).Match = "userName", $"{StMarys}.Match: must be 'email' or 'externalId'" },
        { "match in the wrong case", o => First(o).Match = "ExternalId", $"{StMarys}.Match: must be 'email' or 'externalId'" },
        { "empty match", o => First(o).Match = "", $"{StMarys}.Match: must be 'email' or 'externalId'" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_bad_scim_setting_is_refused_with_path_and_reason(string problem, Action<TesseraOptions> change, string expected)
    {
        var errors = ConfigurationCompiler.Compile(Options(change)).Errors.Select(e => e.Format(null)).ToList();

        Assert.True(errors.Any(e => e.StartsWith(expected, StringComparison.Ordinal)), $"{problem}: expected '{expected}', got: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void The_documented_shape_is_accepted_with_its_defaults()
    {
        var options = Options(_ => { });

        Assert.Empty(ConfigurationCompiler.Compile(options).Errors);
        Assert.Equal("email", First(options).Match);
        Assert.False(First(options).RequireProvisioning);
        Assert.Empty(new ScimOptions().Tokens);
    }

    [Fact]
    public void Tokens_come_from_the_environment_and_are_checked_after_it()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-tests");
        System.IO.Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".json");
        var kek = Tessera.Keys.KeyEncryptionKey.Generate();
        File.WriteAllText(path, """
            {
              "Tessera": {
                "Issuer": "https://login.example.com",
                "Keys": { "EncryptionKey": "env:TEST_KEK" },
                "Organizations": [
                  { "Id": "st-marys", "Scim": { "Tokens": ["env:STMARYS_SCIM_TOKEN"], "Match": "externalId", "RequireProvisioning": true } },
                  { "Id": "general-clinic", "Scim": { "Tokens": ["env:CLINIC_SCIM_TOKEN"] } }
                ]
              }
            }
            """);
        try
        {
            string? Environment(string name, string clinic) => name switch
            {
                "TEST_KEK" => kek,
                "STMARYS_SCIM_TOKEN" => Token,
                "CLINIC_SCIM_TOKEN" => clinic,
                _ => null,
            };

            var good = ConfigurationCompiler.CompileFile(path, environment: name => Environment(name, ClinicToken));
            var shared = ConfigurationCompiler.CompileFile(path, environment: name => Environment(name, Token));
            var weak = ConfigurationCompiler.CompileFile(path, environment: name => Environment(name, "short"));

            Assert.True(good.Succeeded, string.Join("; ", good.Errors.Select(e => e.Format(null))));
            Assert.Equal([Token], good.Model!.Organizations[0].Scim.Tokens);
            Assert.Equal("externalId", good.Model.Organizations[0].Scim.Match);
            Assert.True(good.Model.Organizations[0].Scim.RequireProvisioning);
            Assert.Contains(shared.Errors, e => e.Format(null).StartsWith($"{Clinic}.Tokens[0]: is already a SCIM token", StringComparison.Ordinal));
            Assert.Contains(weak.Errors, e => e.Format(null).StartsWith($"{Clinic}.Tokens[0]: must be at least 32 characters", StringComparison.Ordinal));
            // The refusal names the setting, never the secret it came from the environment with.
            Assert.DoesNotContain(shared.Errors, e => e.Format(null).Contains(Token, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
