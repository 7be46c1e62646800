using Microsoft.EntityFrameworkCore;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Tests.Infrastructure;

/// <summary>Several Tessera nodes on one database, as a deployment runs them behind a balancer.</summary>
public static class Nodes
{
    /// <summary>Two nodes sharing a database and a key-encryption key; the database outlives them (dispose it last).</summary>
    public static async Task<(TesseraTestServer A, TesseraTestServer B, TestDatabase Database)> TwoAsync(Action<TesseraOptions>? configure = null)
    {
        var database = await TestDatabase.CreateAsync();
        var keys = new KeyOptions { EncryptionKey = KeyEncryptionKey.Generate() };
        void Configure(TesseraOptions options)
        {
            options.Keys = keys;
            configure?.Invoke(options);
        }

        var a = await TesseraTestServer.StartAsync(Configure, database: database, keepDatabase: true);
        var b = await TesseraTestServer.StartAsync(Configure, database: database, keepDatabase: true);
        return (a, b, database);
    }

    /// <summary>On PostgreSQL, waits until <paramref name="node"/> listens for notifications (right after start it may still be opening).</summary>
    public static async Task ListeningAsync(TesseraTestServer node)
    {
        if (node.IsPostgres)
        {
            await WaitAsync(() => node.Service<ChangeNotifications>().Listening, "the node listening for notifications");
        }
    }

    /// <summary>
    /// Leaves <paramref name="node"/> without notifications: on PostgreSQL its listening connection is terminated by
    /// the server (it reconnects after a backoff); SQLite never has one.
    /// </summary>
    public static async Task CutNotificationsAsync(TesseraTestServer node)
    {
        var notifications = node.Service<ChangeNotifications>();
        if (node.IsPostgres)
        {
            await ListeningAsync(node);
            var terminated = await node.WithDbAsync(db => db.Database.SqlQueryRaw<bool>(
                "SELECT pg_terminate_backend(pid) AS \"Value\" FROM pg_stat_activity WHERE application_name = {0} AND datname = current_database()",
                ChangeNotifications.ApplicationName).ToListAsync());
            Assert.NotEmpty(terminated);
            await WaitAsync(() => !notifications.Listening, "the node noticing its notification connection is gone");
        }

        Assert.False(notifications.Listening);
    }

    public static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
