using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tessera.Directory;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;
using static Tessera.Tests.Directory.ScimDirectoryCorpus;

namespace Tessera.Tests.Directory;

/// <summary>
/// gt/ge/lt/le compare byte-wise even in a PostgreSQL database whose default collation is linguistic (ICU en-US sorts
/// "EXT-JSMITH" after "ext" and "_" before "'"), where a plain comparison would answer differently. On SQLite the same
/// rows run on the ordinary corpus database.
/// </summary>
public sealed class ScimOrdinalCollationTests
{
    public static TheoryData<string, string[]> Filters() => new()
    {
        { "externalId lt \"ext\"", ["jsmith", "nomail", "UPPER@Example.com"] },
        { "externalId ge \"ext\"", ["bjensen", "akira", "chen", "entra@contoso.com", "zed"] },
        { "userName lt \"a_\"", ["100%off"] },
        { "name.familyName lt \"o_\"", ["bjensen", "omalley", "chen", "o'reilly", "entra@contoso.com"] },
        { "name.familyName sw \"o'\"", ["omalley", "o'reilly"] },
        { "externalId sw \"EXT\"", ["jsmith"] },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Ordering_comparisons_are_byte_wise_under_a_linguistic_collation(string filter, string[] expected)
    {
        await using var database = await LinguisticDatabase.CreateAsync();
        await using var db = ScimDirectorySeed.Open(database.Storage);

        var users = await ScimUserQuery.Users(db, Acme, ScimFilterParser.Parse(filter)).Select(u => u.UserName).ToListAsync();

        Assert.Equal(expected.Order(StringComparer.Ordinal), users.Order(StringComparer.Ordinal));
    }

    /// <summary>The corpus in a PostgreSQL database created with the ICU en-US collation (a SQLite file otherwise).</summary>
    private sealed class LinguisticDatabase : IAsyncDisposable
    {
        private readonly TestDatabase? _sqlite;
        private readonly string? _admin;
        private readonly string? _name;

        private LinguisticDatabase(StorageOptions storage, TestDatabase? sqlite, string? admin, string? name)
        {
            Storage = storage;
            _sqlite = sqlite;
            _admin = admin;
            _name = name;
        }

        public StorageOptions Storage { get; }

        public static async Task<LinguisticDatabase> CreateAsync()
        {
            LinguisticDatabase database;
            if (TestDatabase.PostgresServer is { } admin)
            {
                var name = "tessera_icu_" + Guid.NewGuid().ToString("N");
                await using (var connection = new NpgsqlConnection(admin))
                {
                    await connection.OpenAsync();
                    await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'", connection);
                    await command.ExecuteNonQueryAsync();
                }

                var storage = new StorageOptions
                {
                    Provider = StorageProvider.Postgres,
                    ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = false }.ConnectionString,
                };
                database = new LinguisticDatabase(storage, null, admin, name);
            }
            else
            {
                var sqlite = await TestDatabase.CreateAsync();
                database = new LinguisticDatabase(sqlite.Storage, sqlite, null, null);
            }

            await using var db = ScimDirectorySeed.Open(database.Storage);
            await db.Database.MigrateAsync();
            await SeedAsync(db);
            return database;
        }

        public async ValueTask DisposeAsync()
        {
            if (_sqlite is not null)
            {
                await _sqlite.DisposeAsync();
            }

            if (_name is not null)
            {
                await using var connection = new NpgsqlConnection(_admin);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", connection);
                await command.ExecuteNonQueryAsync();
            }
        }
    }
}
