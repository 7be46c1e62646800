using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using OpenIddict.EntityFrameworkCore.Models;
using Tessera.Hosting;
using Tessera.Protocol;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Protocol;

/// <summary>The transaction a refresh or a code redemption runs in, on the suite's storage.</summary>
public sealed class RequestTransactionTests : IAsyncLifetime
{
    private readonly Savepoints _savepoints = new();
    private TestDatabase _database = null!;
    private TesseraDbContext _db = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _db = _database.Storage.Provider == StorageProvider.Postgres
            ? new PostgresTesseraDbContext(new DbContextOptionsBuilder<PostgresTesseraDbContext>()
                .UseNpgsql(StorageServiceCollectionExtensions.PostgresConnectionString(_database.Storage.ConnectionString)).AddInterceptors(_savepoints).Options)
            : new SqliteTesseraDbContext(new DbContextOptionsBuilder<SqliteTesseraDbContext>()
                .UseSqlite(_database.Storage.ConnectionString).AddInterceptors(_savepoints).Options);
        await _db.Database.EnsureCreatedAsync();
    }

    [Fact]
    public async Task Its_saves_take_no_savepoints_and_the_context_gets_them_back_at_the_commit()
    {
        var transaction = new RequestTransaction();
        await transaction.OpenAsync(_db, CancellationToken.None);
        Assert.Equal(0, await _db.RiskObservations.CountAsync());
        Assert.Equal(ConnectionState.Open, _db.Database.GetDbConnection().State); // the read did not give it back
        transaction.Collect(_db);
        await SaveOneAsync(); // a save while writes are collected begins the transaction
        await SaveOneAsync();
        Assert.True(await transaction.CommitAsync(CancellationToken.None));

        Assert.Equal(0, _savepoints.Created);
        Assert.True(_db.Database.AutoSavepointsEnabled);
        Assert.Equal(ConnectionState.Closed, _db.Database.GetDbConnection().State);
        Assert.Equal(2, await _db.RiskObservations.CountAsync());

        // The control: any other transaction on the context still saves under a savepoint, as EF Core does by default.
        await using (var other = await _db.Database.BeginTransactionAsync())
        {
            await SaveOneAsync();
            await other.CommitAsync();
        }

        Assert.Equal(1, _savepoints.Created);
    }

    [Fact]
    public async Task A_request_that_fails_before_its_commit_stores_nothing_and_gives_the_context_back_as_it_was_lent()
    {
        await using (var transaction = new RequestTransaction())
        {
            await transaction.OpenAsync(_db, CancellationToken.None);
            transaction.Collect(_db);
            await SaveOneAsync();
            Assert.False(_db.Database.AutoSavepointsEnabled);
        }

        // The request's scope ended before the pooled context went back: its transaction ended unfinished with it.
        Assert.Null(_db.Database.CurrentTransaction);
        Assert.True(_db.Database.AutoSavepointsEnabled);
        Assert.Equal(ConnectionState.Closed, _db.Database.GetDbConnection().State);

        _db.ChangeTracker.Clear();
        Assert.Equal(0, await _db.RiskObservations.CountAsync());
    }

    [Fact]
    public async Task Collected_writes_wait_for_the_commit_and_a_redemption_overtaken_since_its_read_writes_nothing()
    {
        var tokenId = await StoreTokenAsync();
        foreach (var overtaken in new[] { false, true })
        {
            var stored = await CountElsewhereAsync();
            var transaction = new RequestTransaction();
            await transaction.OpenAsync(_db, CancellationToken.None);
            var token = await _db.Set<OpenIddictEntityFrameworkCoreToken>().SingleAsync(t => t.Id == tokenId);
            transaction.Collect(_db);
            token.Status = "redeemed";
            token.ConcurrencyToken = Guid.NewGuid().ToString();
            _db.RiskObservations.Add(new RiskObservationRecord { UserId = Guid.NewGuid(), Kind = "refresh", OrganizationId = "acme", ObservedAt = DateTime.UtcNow });
            transaction.SaveBeforeCommit();

            // Until the commit, nothing of it is stored, and nothing holds the database.
            Assert.Null(_db.Database.CurrentTransaction);
            Assert.Equal(stored, await CountElsewhereAsync());
            if (overtaken)
            {
                await using var other = NewContext();
                await other.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Id == tokenId)
                    .ExecuteUpdateAsync(t => t.SetProperty(x => x.Status, "revoked").SetProperty(x => x.ConcurrencyToken, Guid.NewGuid().ToString()));
            }

            Assert.Equal(!overtaken, await transaction.CommitAsync(CancellationToken.None));
            Assert.Null(_db.Database.CurrentTransaction);
            Assert.Equal(ConnectionState.Closed, _db.Database.GetDbConnection().State);
            Assert.Equal(overtaken ? stored : stored + 1, await CountElsewhereAsync());
            await using var reader = NewContext();
            Assert.Equal(overtaken ? "revoked" : "redeemed", (await reader.Set<OpenIddictEntityFrameworkCoreToken>().SingleAsync(t => t.Id == tokenId)).Status);
            if (!overtaken)
            {
                await reader.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Id == tokenId)
                    .ExecuteUpdateAsync(t => t.SetProperty(x => x.Status, "valid"));
            }
        }
    }

    private async Task<string> StoreTokenAsync()
    {
        await using var db = NewContext();
        var token = new OpenIddictEntityFrameworkCoreToken { Status = "valid", Type = "refresh_token", CreationDate = DateTime.UtcNow };
        db.Add(token);
        await db.SaveChangesAsync();
        return token.Id!;
    }

    private async Task<int> CountElsewhereAsync()
    {
        await using var db = NewContext();
        return await db.RiskObservations.CountAsync();
    }

    private TesseraDbContext NewContext() => _database.Storage.Provider == StorageProvider.Postgres
        ? new PostgresTesseraDbContext(new DbContextOptionsBuilder<PostgresTesseraDbContext>()
            .UseNpgsql(StorageServiceCollectionExtensions.PostgresConnectionString(_database.Storage.ConnectionString)).Options)
        : new SqliteTesseraDbContext(new DbContextOptionsBuilder<SqliteTesseraDbContext>().UseSqlite(_database.Storage.ConnectionString).Options);

    private async Task SaveOneAsync()
    {
        _db.RiskObservations.Add(new RiskObservationRecord { UserId = Guid.NewGuid(), Kind = "refresh", OrganizationId = "acme", ObservedAt = DateTime.UtcNow });
        await _db.SaveChangesAsync();
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        await _database.DisposeAsync();
    }

    private sealed class Savepoints : DbTransactionInterceptor
    {
        public int Created;

        public override ValueTask<InterceptionResult> CreatingSavepointAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Created);
            return ValueTask.FromResult(result);
        }
    }
}
