using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tessera.Directory;
using Tessera.Hosting;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Directory;

/// <summary>A SCIM bearer token opens one organization's directory, and only while it is configured or unrevoked.</summary>
public sealed class ScimTokensTests
{
    private const string OtherOrganization = "general-clinic";
    private static readonly string StMarysToken = "stmarys-scim-" + new string('a', 40);
    private static readonly string ClinicToken = "clinic-scim-" + new string('b', 40);

    private static TesseraOptions Options(StorageOptions storage, params (string Organization, string[] Tokens)[] organizations)
    {
        var options = TestConfiguration.Create(storage);
        foreach (var (organization, tokens) in organizations)
        {
            options.Organizations.Add(new OrganizationOptions { Id = organization, Scim = new ScimOptions { Tokens = [.. tokens] } });
        }

        TesseraOptionsDefaults.Apply(options);
        return options;
    }

    private static TesseraOptions TwoOrganizations(StorageOptions storage) =>
        Options(storage, (TestConfiguration.Organization, [StMarysToken]), (OtherOrganization, [ClinicToken]));

    [Fact]
    public async Task Configured_tokens_open_their_own_organization_only()
    {
        await using var store = await ScimTokenStore.CreateAsync(TwoOrganizations);

        Assert.Equal(TestConfiguration.Organization, await store.AuthenticateAsync(StMarysToken));
        Assert.Equal(OtherOrganization, await store.AuthenticateAsync(ClinicToken));
    }

    public static TheoryData<string, string?> Strangers => new()
    {
        // what the caller sends, the token it stands for
        { "no token", null },
        { "an empty token", "" },
        { "a configured token with a changed last character", StMarysToken[..^1] + "b" },
        { "a configured token with trailing space", StMarysToken + " " },
        { "a configured token in other case", StMarysToken.ToUpperInvariant() },
        { "a prefix of a configured token", StMarysToken[..32] },
        { "the hash of a configured token", ScimTokens.Hash(StMarysToken) },
        { "a made-up generated token", ScimTokens.Prefix + new string('A', 43) },
        { "an oversized token", new string('x', 100_000) },
    };

    [Theory]
    [MemberData(nameof(Strangers))]
    public async Task Anything_but_a_known_token_opens_nothing(string problem, string? token)
    {
        await using var store = await ScimTokenStore.CreateAsync(TwoOrganizations);
        await store.CreateAsync(TestConfiguration.Organization);

        Assert.True(await store.AuthenticateAsync(token) is null, problem);
    }

    [Fact]
    public async Task A_generated_token_opens_its_organization_until_revoked()
    {
        await using var store = await ScimTokenStore.CreateAsync(TwoOrganizations);

        var (record, token) = await store.CreateAsync(OtherOrganization, "Okta provisioning");
        var other = await store.CreateAsync(OtherOrganization, "Okta, next");

        Assert.StartsWith(ScimTokens.Prefix, token, StringComparison.Ordinal);
        Assert.Equal(OtherOrganization, await store.AuthenticateAsync(token));
        Assert.True(await store.RevokeAsync(record.Id));
        Assert.Null(await store.AuthenticateAsync(token));
        Assert.False(await store.RevokeAsync(record.Id));
        // Several tokens are active at once for rotation; revoking one leaves the others.
        Assert.Equal(OtherOrganization, await store.AuthenticateAsync(other.Token));
    }

    [Fact]
    public async Task A_reloaded_configuration_without_a_token_stops_it_at_once()
    {
        await using var store = await ScimTokenStore.CreateAsync(TwoOrganizations);
        Assert.Equal(TestConfiguration.Organization, await store.AuthenticateAsync(StMarysToken));

        var rotated = "stmarys-scim-" + new string('c', 40);
        store.Configuration.Replace(TestModel.Compile(Options(store.Configuration.Current.Storage, (TestConfiguration.Organization, [rotated]), (OtherOrganization, [ClinicToken]))));

        Assert.Null(await store.AuthenticateAsync(StMarysToken));
        Assert.Equal(TestConfiguration.Organization, await store.AuthenticateAsync(rotated));
        Assert.Equal(OtherOrganization, await store.AuthenticateAsync(ClinicToken));
    }

    [Fact]
    public async Task A_token_moved_to_another_organization_by_a_reload_opens_only_the_new_one()
    {
        await using var store = await ScimTokenStore.CreateAsync(TwoOrganizations);

        store.Configuration.Replace(TestModel.Compile(Options(store.Configuration.Current.Storage, (TestConfiguration.Organization, []), (OtherOrganization, [ClinicToken, StMarysToken]))));

        Assert.Equal(OtherOrganization, await store.AuthenticateAsync(StMarysToken));
    }

    [Fact]
    public async Task Generated_tokens_are_stored_only_as_hashes()
    {
        await using var store = await ScimTokenStore.CreateAsync(TwoOrganizations);

        var (record, token) = await store.CreateAsync(TestConfiguration.Organization, "Entra ID");
        var rows = await store.RawRowsAsync();

        var row = Assert.Single(rows);
        Assert.Equal(ScimTokens.Hash(token), row["hash"]);
        Assert.Equal(record.Id, row["id"]);
        var randomPart = token[ScimTokens.Prefix.Length..];
        foreach (var (column, value) in row)
        {
            Assert.False(value.Contains(randomPart, StringComparison.Ordinal), $"column {column} holds the token");
        }
    }

    [Fact]
    public async Task Generated_tokens_carry_256_random_bits_and_distinct_ids()
    {
        await using var store = await ScimTokenStore.CreateAsync(TwoOrganizations);

        var made = new List<(ScimTokenRecord Record, string Token)>();
        for (var i = 0; i < 10; i++)
        {
            made.Add(await store.CreateAsync(TestConfiguration.Organization));
        }

        Assert.All(made, m => Assert.Equal(32, Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(m.Token[ScimTokens.Prefix.Length..]).Length));
        Assert.Equal(10, made.Select(m => m.Token).Distinct().Count());
        Assert.Equal(10, made.Select(m => m.Record.Id).Distinct().Count());
    }
}

/// <summary><see cref="ScimTokens"/> over a fresh, migrated test database (SQLite, or PostgreSQL with TESSERA_TEST_POSTGRES).</summary>
public sealed class ScimTokenStore : IAsyncDisposable
{
    private readonly TestDatabase _database;
    private readonly ServiceProvider _services;

    private ScimTokenStore(TestDatabase database, ServiceProvider services, TesseraConfiguration configuration)
    {
        _database = database;
        _services = services;
        Configuration = configuration;
    }

    public TesseraConfiguration Configuration { get; }

    public static async Task<ScimTokenStore> CreateAsync(Func<StorageOptions, TesseraOptions> options)
    {
        var database = await TestDatabase.CreateAsync();
        var configuration = new TesseraConfiguration(TestModel.Compile(options(database.Storage)));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(configuration);
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero)));
        services.AddTesseraStorage(database.Storage);
        services.AddScoped<ScimTokens>();
        var provider = services.BuildServiceProvider(validateScopes: true);
        await provider.GetRequiredService<StorageInitializer>().MigrateAsync(CancellationToken.None);
        return new ScimTokenStore(database, provider, configuration);
    }

    public Task<string?> AuthenticateAsync(string? token) => WithTokensAsync(t => t.AuthenticateAsync(token, CancellationToken.None));

    public Task<(ScimTokenRecord Record, string Token)> CreateAsync(string organization, string? description = null) =>
        WithTokensAsync(t => t.CreateAsync(organization, description, CancellationToken.None));

    public Task<List<ScimTokenRecord>> ListAsync(string? organization = null) => WithTokensAsync(t => t.ListAsync(organization, CancellationToken.None));

    public Task<bool> RevokeAsync(string id) => WithTokensAsync(t => t.RevokeAsync(id, CancellationToken.None));

    /// <summary>Every row of scim_tokens, every column as text, read past the model.</summary>
    public async Task<List<Dictionary<string, string>>> RawRowsAsync()
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM scim_tokens";
        await using DbDataReader reader = await command.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, string>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? "";
            }

            rows.Add(row);
        }

        return rows;
    }

    private async Task<T> WithTokensAsync<T>(Func<ScimTokens, Task<T>> action)
    {
        await using var scope = _services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<ScimTokens>());
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _database.DisposeAsync();
    }
}
