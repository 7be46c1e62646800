using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Tessera.Hosting;
using Tessera.Protocol.Handlers;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Protocol;

/// <summary>The transaction a refresh or a code redemption runs in, on the suite's storage.</summary>
public sealed class TokenRequestTransactionTests : IAsyncLifetime
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
        var transaction = new TokenRequestTransaction();
        await transaction.OpenAsync(_db, CancellationToken.None);
        Assert.Equal(0, await _db.RiskObservations.CountAsync());
        Assert.Equal(ConnectionState.Open, _db.Database.GetDbConnection().State); // the read did not give it back
        await transaction.BeginAsync(_db, CancellationToken.None);
        await SaveOneAsync();
        await SaveOneAsync();
        await transaction.CommitAsync(CancellationToken.None);

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
        await using (var transaction = new TokenRequestTransaction())
        {
            await transaction.OpenAsync(_db, CancellationToken.None);
            await transaction.BeginAsync(_db, CancellationToken.None);
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
