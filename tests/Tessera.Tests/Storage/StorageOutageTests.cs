using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tessera.Audit;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Storage;

/// <summary>
/// While the database is out (PostgreSQL refusing connections, a SQLite file that cannot be opened), every endpoint that
/// needs it answers at once 503 with Retry-After in its own error shape, never a 500 page or a hang; and the audit log
/// keeps what it was given until the database is back.
/// </summary>
public sealed class StorageOutageTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(2);

    /// <summary>Each row: a request to one kind of endpoint, and what its 503 must look like.</summary>
    private sealed record Row(Func<string, HttpRequestMessage> Request, string MediaType, Action<string> Shape);

    private static readonly Dictionary<string, Row> Rows = new()
    {
        ["token endpoint: OAuth error temporarily_unavailable"] = new(
            _ => Form("token", new() { ["grant_type"] = "client_credentials", ["client_id"] = TestConfiguration.ServiceClient, ["client_secret"] = TestConfiguration.ServiceSecret }),
            "application/json",
            body => Assert.Equal("temporarily_unavailable", JsonNode.Parse(body)!["error"]!.GetValue<string>())),
        ["introspection endpoint: OAuth error temporarily_unavailable"] = new(
            _ => Form("introspect", new() { ["token"] = "anything", ["client_id"] = TestConfiguration.ResourceServer, ["client_secret"] = TestConfiguration.ResourceServerSecret }),
            "application/json",
            body => Assert.Equal("temporarily_unavailable", JsonNode.Parse(body)!["error"]!.GetValue<string>())),
        ["SCIM: SCIM error with status 503"] = new(
            _ => Bearer(HttpMethod.Get, $"scim/v2/{TestConfiguration.Organization}/Users", ScimClient.StMarysToken),
            "application/scim+json",
            body =>
            {
                var error = JsonNode.Parse(body)!;
                Assert.Equal("503", error["status"]!.GetValue<string>());
                Assert.Contains("urn:ietf:params:scim:api:messages:2.0:Error", error["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));
            }),
        ["Admin API: problem detail storage_unavailable"] = new(
            adminToken => Bearer(HttpMethod.Get, "admin/v1/organizations", adminToken),
            "application/problem+json",
            body => Assert.Equal(503, JsonNode.Parse(body)!["status"]!.GetValue<int>())),
        ["browser page (/authorize): a page"] = new(
            _ => new HttpRequestMessage(HttpMethod.Get, Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", "state-0123456789", "nonce-0123456789", Oauth.Pkce().Challenge)),
            "text/html",
            body => Assert.Contains("Try again later", body, StringComparison.Ordinal)),
    };

    public static TheoryData<string> Endpoints() => new(Rows.Keys);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task While_the_database_is_unreachable_the_endpoint_answers_503_with_Retry_After_in_its_own_shape_at_once(string endpoint)
    {
        var row = Rows[endpoint];
        var database = await TestDatabase.CreateAsync();
        await using var server = await TesseraTestServer.StartAsync(options =>
        {
            ScimClient.Configure(options);
            AdminApi.AddClients(options);
        }, database: database);
        using var admin = await AdminApi.PlatformAsync(server);
        var adminToken = admin.DefaultRequestHeaders.Authorization!.Parameter!;
        using var http = server.CreateClient();

        HttpResponseMessage response;
        var clock = Stopwatch.StartNew();
        await using (await database.MakeUnreachableAsync())
        {
            response = await http.SendAsync(row.Request(adminToken));
            clock.Stop();
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode} {body}");
            Assert.Equal(StorageOutage.RetryAfter, response.Headers.RetryAfter?.Delta);
            Assert.Equal(row.MediaType, response.Content.Headers.ContentType?.MediaType);
            Assert.True(clock.Elapsed < Fast, $"took {clock.Elapsed}");
            row.Shape(body);
        }

        // Back: the same request is served again, without a restart.
        using var again = await http.SendAsync(row.Request(adminToken));
        Assert.NotEqual(HttpStatusCode.ServiceUnavailable, again.StatusCode);
        Assert.True((int)again.StatusCode < 500, $"{(int)again.StatusCode}");
    }

    [Fact]
    public async Task Audit_events_recorded_while_the_database_is_unreachable_are_stored_once_it_is_back()
    {
        var database = await TestDatabase.CreateAsync();
        await using var server = await TesseraTestServer.StartAsync(database: database);
        var audit = server.Services.GetRequiredService<AuditLog>();

        await using (await database.MakeUnreachableAsync())
        {
            for (var i = 0; i < 3; i++)
            {
                audit.Record(new AuditEvent("test.during_outage", AuditEvent.Success) { Reason = $"event {i}" });
            }

            await Task.Delay(TimeSpan.FromSeconds(1)); // the writer tries, fails, and keeps them
        }

        await audit.FlushAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var stored = await server.WithDbAsync(db => db.AuditEvents.CountAsync(e => e.Event == "test.during_outage"));
        Assert.Equal(3, stored);
    }

    [Fact]
    public async Task When_the_audit_queue_is_full_a_request_waits_for_room_without_a_thread_and_no_event_is_lost()
    {
        var database = await TestDatabase.CreateAsync();
        await using var server = await TesseraTestServer.StartAsync(database: database);
        var audit = server.Services.GetRequiredService<AuditLog>();
        var recorded = new List<Task>();
        const int events = AuditLog.QueueCapacity + AuditLog.BatchSize + 2_000; // more than the queue and the writer's batch in hand hold

        await using (await database.MakeUnreachableAsync())
        {
            for (var i = 0; i < events; i++)
            {
                recorded.Add(audit.RecordAsync(new AuditEvent("test.queue_full", AuditEvent.Success) { Reason = $"event {i}" }).AsTask());
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Contains(recorded, r => !r.IsCompleted); // waiting for room, not dropped and not failed
            Assert.DoesNotContain(recorded, r => r.IsFaulted);
        }

        await Task.WhenAll(recorded).WaitAsync(TimeSpan.FromSeconds(60));
        await audit.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var stored = await server.WithDbAsync(db => db.AuditEvents.CountAsync(e => e.Event == "test.queue_full"));
        Assert.Equal(events, stored);
    }

    private static HttpRequestMessage Form(string path, Dictionary<string, string> form) =>
        new(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };

    private static HttpRequestMessage Bearer(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }
}
