using Tessera.Directory;
using Tessera.Hosting;
using Tessera.Tests.Directory;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

/// <summary><c>tessera scim token create | list | revoke</c>, run in-process as an operator would run them.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ScimTokenCliTests
{
    private const string OtherOrganization = "general-clinic";

    private static TesseraOptions Options(StorageOptions storage)
    {
        var options = TestConfiguration.Create(storage);
        options.Organizations.Add(new OrganizationOptions { Id = TestConfiguration.Organization });
        options.Organizations.Add(new OrganizationOptions { Id = OtherOrganization });
        return options;
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task A_token_made_on_the_command_line_opens_its_organization_until_revoked_there()
    {
        await using var store = await ScimTokenStore.CreateAsync(Options);
        var file = ConfigurationFile.Write(store.Configuration.Current.Declared);

        var (created, creation, _) = await CommandLine.RunAsync("scim", "token", "create", "--config", file, "--organization", TestConfiguration.Organization, "--description", "Okta provisioning");
        var token = Assert.Single(Lines(creation), l => l.StartsWith(ScimTokens.Prefix, StringComparison.Ordinal));
        var id = Assert.Single(await store.ListAsync()).Id;
        var (listed, list, _) = await CommandLine.RunAsync("scim", "token", "list", "--config", file);
        var opened = await store.AuthenticateAsync(token);
        var (revoked, revocation, _) = await CommandLine.RunAsync("scim", "token", "revoke", "--config", file, id);
        var afterRevocation = await store.AuthenticateAsync(token);
        var (_, listAfter, _) = await CommandLine.RunAsync("scim", "token", "list", "--config", file);

        Assert.Equal(0, created);
        Assert.Contains(id, creation, StringComparison.Ordinal);
        Assert.Contains("will not be shown again", creation, StringComparison.Ordinal);
        Assert.Equal(TestConfiguration.Organization, opened);
        Assert.Equal(0, listed);
        var row = Assert.Single(Lines(list), l => l.StartsWith(id, StringComparison.Ordinal));
        Assert.Contains(TestConfiguration.Organization, row, StringComparison.Ordinal);
        Assert.EndsWith("Okta provisioning", row, StringComparison.Ordinal);
        Assert.DoesNotContain(token[ScimTokens.Prefix.Length..], list, StringComparison.Ordinal);
        Assert.DoesNotContain(ScimTokens.Hash(token), list, StringComparison.Ordinal);
        Assert.Equal(0, revoked);
        Assert.Contains(id, revocation, StringComparison.Ordinal);
        Assert.Null(afterRevocation);
        var revokedRow = Assert.Single(Lines(listAfter), l => l.StartsWith(id, StringComparison.Ordinal));
        Assert.Matches(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", revokedRow);
    }

    [Fact]
    public async Task List_filters_by_organization()
    {
        await using var store = await ScimTokenStore.CreateAsync(Options);
        var file = ConfigurationFile.Write(store.Configuration.Current.Declared);
        var stMarys = await store.CreateAsync(TestConfiguration.Organization, "Entra ID");
        var clinic = await store.CreateAsync(OtherOrganization, "Okta");

        var (exit, list, _) = await CommandLine.RunAsync("scim", "token", "list", "--config", file, "--organization", OtherOrganization);

        Assert.Equal(0, exit);
        Assert.Contains(Lines(list), l => l.StartsWith(clinic.Record.Id, StringComparison.Ordinal));
        Assert.DoesNotContain(Lines(list), l => l.StartsWith(stMarys.Record.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_refuses_an_organization_the_configuration_does_not_declare()
    {
        await using var store = await ScimTokenStore.CreateAsync(Options);
        var file = ConfigurationFile.Write(store.Configuration.Current.Declared);

        var (exit, output, error) = await CommandLine.RunAsync("scim", "token", "create", "--config", file, "--organization", "st-mary");

        Assert.Equal(1, exit);
        Assert.DoesNotContain(ScimTokens.Prefix, output, StringComparison.Ordinal);
        Assert.Contains("no organization 'st-mary'", error, StringComparison.Ordinal);
        Assert.Empty(await store.ListAsync());
    }

    [Fact]
    public async Task Revoke_fails_for_an_unknown_or_already_revoked_token()
    {
        await using var store = await ScimTokenStore.CreateAsync(Options);
        var file = ConfigurationFile.Write(store.Configuration.Current.Declared);
        var (record, _) = await store.CreateAsync(TestConfiguration.Organization);

        var (unknown, _, unknownError) = await CommandLine.RunAsync("scim", "token", "revoke", "--config", file, "000000000000");
        var (first, _, _) = await CommandLine.RunAsync("scim", "token", "revoke", "--config", file, record.Id);
        var (second, _, secondError) = await CommandLine.RunAsync("scim", "token", "revoke", "--config", file, record.Id);

        Assert.Equal(1, unknown);
        Assert.Contains("No SCIM token '000000000000'", unknownError, StringComparison.Ordinal);
        Assert.Equal(0, first);
        Assert.Equal(1, second);
        Assert.Contains("already revoked", secondError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_refuses_a_description_longer_than_the_store_keeps()
    {
        await using var store = await ScimTokenStore.CreateAsync(Options);
        var file = ConfigurationFile.Write(store.Configuration.Current.Declared);

        var (exit, output, error) = await CommandLine.RunAsync("scim", "token", "create", "--config", file, "--organization", TestConfiguration.Organization, "--description", new string('d', 201));

        Assert.Equal(1, exit);
        Assert.Contains("--description: at most 200 characters", error, StringComparison.Ordinal);
        Assert.DoesNotContain(ScimTokens.Prefix, output, StringComparison.Ordinal);
        Assert.Empty(await store.ListAsync());
    }

    [Fact]
    public async Task The_verbs_ask_for_migrate_when_the_schema_is_out_of_date()
    {
        var database = await TestDatabase.CreateAsync();
        await using var _ = database;
        var file = ConfigurationFile.Write(Options(database.Storage));

        var (exit, output, error) = await CommandLine.RunAsync("scim", "token", "create", "--config", file, "--organization", TestConfiguration.Organization);
        var (migrated, _, _) = await CommandLine.RunAsync("migrate", "--config", file);
        var (afterMigrate, _, _) = await CommandLine.RunAsync("scim", "token", "list", "--config", file);

        Assert.Equal(1, exit);
        Assert.DoesNotContain(ScimTokens.Prefix, output, StringComparison.Ordinal);
        Assert.Contains("tessera migrate", error, StringComparison.Ordinal);
        Assert.Equal(0, migrated);
        Assert.Equal(0, afterMigrate);
    }

    [Fact]
    public async Task A_refused_configuration_exits_2_before_touching_the_database()
    {
        await using var store = await ScimTokenStore.CreateAsync(Options);
        var refused = Options(store.Configuration.Current.Storage);
        refused.Organizations[0].Scim.Tokens = ["too-short"];
        var file = ConfigurationFile.Write(refused);

        var (exit, _, error) = await CommandLine.RunAsync("scim", "token", "create", "--config", file, "--organization", TestConfiguration.Organization);

        Assert.Equal(TesseraCli.ConfigurationRefused, exit);
        Assert.Contains("$.Tessera.Organizations[0].Scim.Tokens[0]: must be at least 32 characters", error, StringComparison.Ordinal);
        Assert.Empty(await store.ListAsync());
    }
}
