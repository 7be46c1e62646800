using Npgsql;
using Tessera.Storage;

namespace Tessera.Tests.Storage;

/// <summary>What Tessera adds to an operator's PostgreSQL connection string, and what it leaves as written.</summary>
public sealed class PostgresConnectionStringTests
{
    public static TheoryData<string, string, int> Strings => new()
    {
        { "no word on preparation: Tessera's default", "Host=db;Username=tessera;Password=secret", StorageServiceCollectionExtensions.DefaultMaxAutoPrepare },
        { "preparation turned off (a transaction pooler before PgBouncer 1.21)", "Host=db;Max Auto Prepare=0", 0 },
        { "a number of the operator's", "Host=db;Max Auto Prepare=10", 10 },
        { "the keyword without spaces, in other case", "Host=db;maxautoprepare=0", 0 },
    };

    [Theory]
    [MemberData(nameof(Strings))]
    public void Statements_are_prepared_unless_the_connection_string_says_otherwise(string why, string written, int prepared)
    {
        var result = new NpgsqlConnectionStringBuilder(StorageServiceCollectionExtensions.PostgresConnectionString(written));

        Assert.True(prepared == result.MaxAutoPrepare, why);
        Assert.Equal("db", result.Host);
    }

    public static TheoryData<string, string, bool> Resets => new()
    {
        { "no word on resetting: Tessera's default, no reset", "Host=db;Username=tessera;Password=secret", true },
        { "the operator's reset kept", "Host=db;No Reset On Close=false", false },
        { "the keyword without spaces, in other case", "Host=db;noresetonclose=False", false },
        { "written as Tessera would", "Host=db;No Reset On Close=true", true },
    };

    [Theory]
    [MemberData(nameof(Resets))]
    public void Pooled_connections_are_not_reset_unless_the_connection_string_says_otherwise(string why, string written, bool noReset)
    {
        var result = new NpgsqlConnectionStringBuilder(StorageServiceCollectionExtensions.PostgresConnectionString(written));

        Assert.True(noReset == result.NoResetOnClose, why);
        Assert.Equal(StorageServiceCollectionExtensions.DefaultMaxAutoPrepare, result.MaxAutoPrepare);
    }

    [Fact]
    public void Everything_else_in_the_string_is_kept()
    {
        var result = new NpgsqlConnectionStringBuilder(StorageServiceCollectionExtensions.PostgresConnectionString(
            "Host=db;Port=6432;Username=tessera;Password=secret;Database=idp;Timeout=30;SSL Mode=Require"));

        Assert.Equal(("db", 6432, "tessera", "idp", 30, SslMode.Require), (result.Host, result.Port, result.Username, result.Database, result.Timeout, result.SslMode));
        Assert.Equal("secret", result.Password);
    }
}
