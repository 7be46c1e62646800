using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Admin;

/// <summary>
/// Several nodes on one database: a change made through one node's Admin API is in force on every other node within
/// a second (LISTEN/NOTIFY on PostgreSQL, the revision poll otherwise), and a restarted node starts with it.
/// </summary>
[Collection(PropagationCollection.Name)]
public sealed class ManagedPropagationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static async Task<(TesseraTestServer A, TesseraTestServer B, FakeUpstreamIdp Idp, TestDatabase Database)> TwoNodesAsync()
    {
        var idp = await FakeUpstreamIdp.StartAsync();
        var (a, b, database) = await Nodes.TwoAsync(AdminApi.AddClients);
        return (a, b, idp, database);
    }

    private static object Connection(FakeUpstreamIdp idp) =>
        new { Id = "acme-oidc", Protocol = "oidc", Authority = idp.Issuer, ClientId = FakeUpstreamIdp.ClientId, ClientSecret = FakeUpstreamIdp.ClientSecret };

    /// <summary>Signs in through <paramref name="node"/> and the connection until it works; how long that took after <paramref name="since"/>.</summary>
    private static async Task<TimeSpan> SignsInAfterAsync(TesseraTestServer node, Stopwatch since, TimeSpan giveUp)
    {
        while (since.Elapsed < giveUp)
        {
            using var browser = node.CreateBrowser();
            var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
                new Dictionary<string, string?> { ["connection"] = "acme-oidc" });
            if (outcome.Code is not null)
            {
                return since.Elapsed;
            }

            await Task.Delay(25);
        }

        return TimeSpan.MaxValue;
    }

    [Fact]
    public async Task A_connection_created_through_node_A_signs_a_user_in_through_node_B_within_a_second()
    {
        var (a, b, idp, database) = await TwoNodesAsync();
        await using var _ = database;
        await using var __ = idp;
        await using var nodeA = a;
        await using var nodeB = b;
        using var admin = await AdminApi.PlatformAsync(a);
        Assert.Equal(201, (await AdminApi.PostAsync(admin, "organizations", new { Id = "acme" })).Status);
        await Nodes.ListeningAsync(b); // steady state

        var created = await AdminApi.PostAsync(admin, "organizations/acme/connections", Connection(idp));
        var clock = Stopwatch.StartNew();
        var inForce = await InForceAsync(b, clock);
        var signInStarted = clock.Elapsed;
        var signedIn = await SignsInAfterAsync(b, clock, TimeSpan.FromSeconds(10));

        Assert.Equal(201, created.Status);
        output.WriteLine($"the connection was in force on node B {inForce.TotalMilliseconds:F0} ms after node A's answer, and a sign-in begun then was done at {signedIn.TotalMilliseconds:F0} ms ({(b.IsPostgres ? "PostgreSQL" : "SQLite")})");
        // PostgreSQL notifies at commit; SQLite has only the revision poll (and one node in production).
        var bound = TimeSpan.FromSeconds(1);
        Assert.True(inForce < bound, $"the connection was in force on node B {inForce.TotalMilliseconds:F0} ms after the change on node A (bound {bound.TotalMilliseconds} ms)");
        Assert.True(signInStarted < bound && signedIn != TimeSpan.MaxValue, "the first sign-in begun through node B once it had the connection succeeded");
        Assert.Equal("acme-oidc", (await b.WithDbAsync(db => db.ExternalIdentities.SingleAsync())).ConnectionId);
    }

    [Fact]
    public async Task Without_a_notification_connection_the_revision_poll_still_carries_a_change_within_the_interval()
    {
        var (a, b, idp, database) = await TwoNodesAsync();
        await using var _ = database;
        await using var __ = idp;
        await using var nodeA = a;
        await using var nodeB = b;
        var notifications = b.Service<ChangeNotifications>();
        await Nodes.CutNotificationsAsync(b);
        using var admin = await AdminApi.PlatformAsync(a);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme" });
        await AdminApi.PostAsync(admin, "organizations/acme/connections", Connection(idp));
        var clock = Stopwatch.StartNew();
        var inForce = await InForceAsync(b, clock);
        var signedIn = await SignsInAfterAsync(b, clock, TimeSpan.FromSeconds(10));

        // Within a second: one fallback poll interval, and the time the refresh itself takes on a busy machine.
        var bound = TimeSpan.FromSeconds(1);
        Assert.True(ConfigurationWatcher.FallbackPollInterval <= bound / 2);
        output.WriteLine($"without notifications, the connection was in force on node B {inForce.TotalMilliseconds:F0} ms after node A's answer; a sign-in was done at {signedIn.TotalMilliseconds:F0} ms");
        Assert.True(inForce < bound, $"the connection was in force on node B {inForce.TotalMilliseconds:F0} ms after the change (bound {bound.TotalMilliseconds} ms)");
        Assert.NotEqual(TimeSpan.MaxValue, signedIn);
        if (b.IsPostgres)
        {
            await Nodes.WaitAsync(() => notifications.Listening, "node B listening again"); // and it reconnects by itself
        }
    }

    [Fact]
    public async Task A_client_secret_rotated_without_overlap_through_node_A_is_refused_by_node_B_within_a_second()
    {
        var (a, b, database) = await Nodes.TwoAsync(AdminApi.AddClients);
        await using var _ = database;
        await using var nodeA = a;
        await using var nodeB = b;
        await Nodes.ListeningAsync(b);
        using var admin = await AdminApi.PlatformAsync(a);
        using var httpB = b.CreateClient();
        var old = (await AdminApi.PostAsync(admin, "clients", new { ClientId = "warehouse", Type = "confidential", GrantTypes = new[] { "client_credentials" } }))
            .Body["client_secret"]!.GetValue<string>();
        await Nodes.WaitAsync(() => b.Service<TesseraConfiguration>().Current.FindClient("warehouse") is not null, "the client on node B");
        Assert.Equal(200, (await Oauth.ClientCredentialsAsync(httpB, "warehouse", old)).Status); // node B now knows (and caches) the client

        var rotated = await AdminApi.PostAsync(admin, "clients/warehouse/secrets?overlap=00:00:00");
        var clock = Stopwatch.StartNew();
        while ((await Oauth.ClientCredentialsAsync(httpB, "warehouse", old)).Status == 200)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "node B kept accepting the old secret");
        }

        var refusedAfter = clock.Elapsed;
        var fresh = await Oauth.ClientCredentialsAsync(httpB, "warehouse", rotated.Body["client_secret"]!.GetValue<string>());
        output.WriteLine($"node B refused the old secret {refusedAfter.TotalMilliseconds:F0} ms after node A rotated it ({(b.IsPostgres ? "PostgreSQL" : "SQLite")})");
        Assert.True(refusedAfter < TimeSpan.FromSeconds(1), $"node B accepted the old secret for {refusedAfter.TotalMilliseconds:F0} ms after the rotation");
        Assert.Equal(200, fresh.Status);
    }

    [Fact]
    public async Task Concurrent_changes_through_two_nodes_are_serialized_and_none_is_lost_or_answered_5xx()
    {
        var (a, b, idp, database) = await TwoNodesAsync();
        await using var _ = database;
        await using var __ = idp;
        await using var nodeA = a;
        await using var nodeB = b;
        using var adminA = await AdminApi.PlatformAsync(a);
        using var adminB = await AdminApi.PlatformAsync(b);
        var before = await a.WithDbAsync(db => db.ConfigurationRevisions.Select(r => r.Revision).SingleAsync());

        // The same organization created through both nodes at once, and ten different ones in parallel.
        var same = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => AdminApi.PostAsync(i % 2 == 0 ? adminA : adminB, "organizations", new { Id = "contested" })));
        var distinct = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => AdminApi.PostAsync(i % 2 == 0 ? adminA : adminB, "organizations", new { Id = $"org-{i}", Domains = new[] { $"org{i}.example" } })));

        Assert.Equal(1, same.Count(r => r.Status == 201));
        Assert.All(same.Where(r => r.Status != 201), r => Assert.True(r.Status == 409 && r.Code == "already_exists", r.ToString()));
        Assert.All(distinct, r => Assert.True(r.Status == 201, r.ToString()));
        var after = await a.WithDbAsync(db => db.ConfigurationRevisions.Select(r => r.Revision).SingleAsync());
        Assert.Equal(before + 11, after); // one revision per stored change, none lost
        Assert.Equal(11, await a.WithDbAsync(db => db.ManagedResources.CountAsync(r => r.Kind == "organization")));
        foreach (var node in new[] { a, b })
        {
            await Nodes.WaitAsync(() => node.Service<TesseraConfiguration>().Current.Managed.Revision == after, "every node at the last revision");
            Assert.NotNull(node.Service<TesseraConfiguration>().Current.FindOrganizationByDomain("org9.example"));
        }
    }

    [Fact]
    public async Task A_node_started_later_starts_with_the_managed_configuration()
    {
        var (a, b, idp, database) = await TwoNodesAsync();
        await using var _ = database;
        await using var __ = idp;
        await using (a)
        {
            using var admin = await AdminApi.PlatformAsync(a);
            await AdminApi.PostAsync(admin, "organizations", new { Id = "acme" });
            await AdminApi.PostAsync(admin, "organizations/acme/connections", Connection(idp));
        }

        await b.DisposeAsync();
        await using var restarted = await TesseraTestServer.StartAsync(options =>
        {
            options.Keys = a.Options.Keys;
            AdminApi.AddClients(options);
        }, database: database, keepDatabase: true);

        using var browser = restarted.CreateBrowser();
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["connection"] = "acme-oidc" });

        Assert.NotNull(outcome.Code); // at its first request
        Assert.Equal("managed", restarted.Service<TesseraConfiguration>().Current.FindManaged("connection", "acme-oidc") is null ? "file" : "managed");
    }

    [Fact]
    public async Task A_managed_organization_the_file_now_contradicts_is_left_out_and_reported_and_the_rest_runs()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var admin = await AdminApi.PlatformAsync(env.Server);
        await AdminApi.PostAsync(admin, "organizations", new { Id = "acme", Domains = new[] { "acme.example" } });
        var declared = ConfigurationMerge.Clone(env.Server.Service<TesseraConfiguration>().Current.File);
        declared.Organizations[0].Domains.Add("acme.example"); // the file now claims Acme's domain for St Mary's

        var compiled = ConfigurationCompiler.Compile(declared, env.Server.Service<TesseraConfiguration>().Current.Managed);

        Assert.True(compiled.Succeeded);
        var problem = Assert.Single(compiled.Model!.Problems);
        Assert.Equal(("organization", "acme"), (problem.Kind, problem.Id));
        Assert.Equal("$.Domains[0]", Assert.Single(problem.Errors).Path);
        Assert.Null(compiled.Model.FindOrganization("acme"));
        Assert.Equal("st-marys", compiled.Model.FindOrganizationByDomain("acme.example")!.Id);
    }

    /// <summary>How long after <paramref name="since"/> started the node's model had the connection (looked at every few milliseconds).</summary>
    private static async Task<TimeSpan> InForceAsync(TesseraTestServer node, Stopwatch since)
    {
        var configuration = node.Service<TesseraConfiguration>();
        while (configuration.Current.FindConnection("acme-oidc") is null)
        {
            Assert.True(since.Elapsed < TimeSpan.FromSeconds(10), "the connection never reached the node");
            await Task.Delay(5);
        }

        return since.Elapsed;
    }
}
