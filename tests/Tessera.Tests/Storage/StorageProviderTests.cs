using Microsoft.EntityFrameworkCore;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Storage;

public sealed class StorageProviderTests
{
    /// <summary>CI sets TESSERA_REQUIRE_POSTGRES=1 on its PostgreSQL run: then the suite must really be on PostgreSQL.</summary>
    [Fact]
    public async Task The_suite_runs_on_the_provider_the_environment_asks_for()
    {
        var required = Environment.GetEnvironmentVariable("TESSERA_REQUIRE_POSTGRES") == "1";
        Assert.False(required && TestDatabase.PostgresServer is null, "TESSERA_REQUIRE_POSTGRES=1 but TESSERA_TEST_POSTGRES is not set");

        await using var server = await TesseraTestServer.StartAsync();

        Assert.Equal(TestDatabase.PostgresServer is not null, server.IsPostgres);
        var provider = await server.WithDbAsync(db => Task.FromResult(db.Database.ProviderName));
        Assert.Equal(server.IsPostgres ? "Npgsql.EntityFrameworkCore.PostgreSQL" : "Microsoft.EntityFrameworkCore.Sqlite", provider);
    }

    [Fact]
    public async Task Migrations_bring_an_empty_database_to_the_model_and_nothing_is_pending()
    {
        await using var server = await TesseraTestServer.StartAsync();

        var pending = await server.Service<StorageInitializer>().PendingMigrationsAsync(CancellationToken.None);
        var applied = await server.WithDbAsync(db => db.Database.GetAppliedMigrationsAsync());

        Assert.Empty(pending);
        Assert.Contains(applied, m => m.EndsWith("_Initial", StringComparison.Ordinal));
        Assert.Contains(applied, m => m.EndsWith("_AuditLogIsAppendOnly", StringComparison.Ordinal));
        Assert.False(await server.WithDbAsync(db => Task.FromResult(db.Database.HasPendingModelChanges())), "the model has changes no migration captures");
    }
}
