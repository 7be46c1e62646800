using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Keys;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Keys;

/// <summary>
/// Signing keys across nodes on one database: a key created on one node is published by every node within a second
/// (by notification on PostgreSQL, by the key table poll without one), long before it signs; however many nodes rotate
/// at once, one successor is made.
/// </summary>
[Collection(PropagationCollection.Name)]
public sealed class KeyRotationAcrossNodesTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static async Task<List<string>> PublishedKidsAsync(TesseraTestServer node)
    {
        using var http = node.CreateClient();
        return new JsonWebKeySet(await http.GetStringAsync(".well-known/jwks.json")).Keys.Select(k => k.Kid).ToList();
    }

    private static async Task<string> SigningKidAsync(TesseraTestServer node)
    {
        using var http = node.CreateClient();
        return (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret)).AccessToken.Kid;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_key_rotated_on_node_A_is_published_by_node_B_within_a_second_and_signs_on_neither_before_its_time(bool notified)
    {
        var (a, b, database) = await Nodes.TwoAsync();
        await using var _ = database;
        await using var nodeA = a;
        await using var nodeB = b;
        if (notified)
        {
            await Nodes.ListeningAsync(b);
        }
        else
        {
            await Nodes.CutNotificationsAsync(b);
        }

        var signingBefore = (await SigningKidAsync(a), await SigningKidAsync(b));
        var created = await a.Keys.RotateAsync(immediate: false, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        var successors = created.Where(k => k.Use == ManagedKey.Signing).Select(k => k.Id).ToList();
        while (!successors.All((await PublishedKidsAsync(b)).Contains))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "node B never published the new keys");
            await Task.Delay(10);
        }

        var published = clock.Elapsed;
        output.WriteLine($"node B published the keys node A created {published.TotalMilliseconds:F0} ms later ({(notified && b.IsPostgres ? "notified" : "polled")}, {(b.IsPostgres ? "PostgreSQL" : "SQLite")})");
        Assert.Equal(2, successors.Count); // ES256 and RS256
        Assert.True(published < TimeSpan.FromSeconds(1), $"node B published the new keys {published.TotalMilliseconds:F0} ms after node A created them");
        Assert.Equal(signingBefore, (await SigningKidAsync(a), await SigningKidAsync(b))); // published now, signing after the pre-publication window
        Assert.All(successors, kid => Assert.DoesNotContain(kid, new[] { signingBefore.Item1, signingBefore.Item2 }));
    }

    [Fact]
    public async Task Two_nodes_rotating_at_once_make_one_successor_of_each_kind()
    {
        var (a, b, database) = await Nodes.TwoAsync();
        await using var _ = database;
        await using var nodeA = a;
        await using var nodeB = b;
        var before = await a.WithDbAsync(db => db.Keys.CountAsync());

        var made = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? a : b).Keys.RotateAsync(immediate: false, CancellationToken.None)));

        var after = await a.WithDbAsync(db => db.Keys.AsNoTracking().ToListAsync());
        Assert.Equal(before + KeyFactory.Kinds.Count, after.Count);
        Assert.Equal(KeyFactory.Kinds.Count, made.Sum(m => m.Count));
        Assert.All(after.GroupBy(k => (k.Use, k.Algorithm)), kind => Assert.Single(kind, k => k.ActivatesAt > DateTime.UtcNow));
    }

    [Fact]
    public async Task Two_nodes_starting_on_an_empty_database_make_one_first_key_of_each_kind()
    {
        var database = await TestDatabase.CreateAsync();
        await using var _ = database;
        var keys = new Tessera.Hosting.KeyOptions { EncryptionKey = KeyEncryptionKey.Generate() };
        var nodes = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => TesseraTestServer.StartAsync(o => o.Keys = keys, database: database, keepDatabase: true)));
        try
        {
            var stored = await nodes[0].WithDbAsync(db => db.Keys.AsNoTracking().ToListAsync());
            Assert.Equal(KeyFactory.Kinds.Count, stored.Count);
            Assert.Equal(await SigningKidAsync(nodes[0]), await SigningKidAsync(nodes[1]));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
