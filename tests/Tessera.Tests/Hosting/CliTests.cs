using Tessera.Hosting;
using Tessera.Protocol;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

/// <summary>The maintenance verbs, run in-process as an operator would run them.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CliTests
{
    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        try
        {
            return (await TesseraCli.InvokeAsync(args), output.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    [Fact]
    public async Task Generated_client_secrets_carry_256_random_bits()
    {
        var secrets = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            var (exit, output) = await RunAsync("secret", "new");
            Assert.Equal(0, exit);
            var secret = output.Trim();
            Assert.True(ClientSecretHasher.IsGenerated(secret), secret);
            Assert.Equal(32, Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(secret[ClientSecretHasher.GeneratedPrefix.Length..]).Length);
            Assert.True(secrets.Add(secret));
        }

        var (_, kek) = await RunAsync("secret", "new", "--kind", "kek");
        Assert.True(Tessera.Keys.KeyEncryptionKey.TryParse(kek.Trim(), out _));
    }

    [Fact]
    public async Task Migrate_then_keys_list_and_rotate_work_on_a_configuration_file()
    {
        var database = await TestDatabase.CreateAsync();
        await using var _ = database;
        var file = ConfigurationFile.Write(TestConfiguration.Create(database.Storage));

        var (migrated, migrateOutput) = await RunAsync("migrate", "--config", file);
        var (listed, list) = await RunAsync("keys", "list", "--config", file);
        var (rotated, rotation) = await RunAsync("keys", "rotate", "--config", file);
        var (_, after) = await RunAsync("keys", "list", "--config", file);

        Assert.Equal(0, migrated);
        Assert.Contains("up to date", migrateOutput, StringComparison.Ordinal);
        Assert.Equal(0, listed);
        Assert.Equal(3, list.Split('\n').Count(l => l.Contains(" active ", StringComparison.Ordinal)));
        Assert.Equal(0, rotated);
        Assert.Equal(3, rotation.Split('\n').Count(l => l.StartsWith("published", StringComparison.Ordinal)));
        Assert.Equal(3, after.Split('\n').Count(l => l.Contains(" published ", StringComparison.Ordinal)));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}
