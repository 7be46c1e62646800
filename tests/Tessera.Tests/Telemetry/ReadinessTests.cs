using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Tessera.Telemetry;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Telemetry;

/// <summary>/readyz for balancers and orchestrators: each check named, 503 with Retry-After while the database is gone, fast.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readyz_answers_200_naming_the_database_the_migrations_and_the_signing_keys()
    {
        await using var server = await TesseraTestServer.StartAsync();
        using var http = server.CreateClient();

        using var response = await http.GetAsync("readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("Retry-After"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ready", body.RootElement.GetProperty("status").GetString());
        var checks = body.RootElement.GetProperty("checks");
        Assert.Equal(["database", "migrations", "signing_keys"], checks.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.All(checks.EnumerateObject(), check => Assert.Equal("ok", check.Value.GetString()));
        Assert.Equal("ok", await http.GetStringAsync("healthz"));
    }

    [Fact]
    public async Task Readyz_answers_503_with_Retry_After_at_once_while_the_database_is_unreachable_and_200_once_it_is_back()
    {
        var database = await TestDatabase.CreateAsync();
        await using var server = await TesseraTestServer.StartAsync(database: database);
        using var http = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);

        var outage = await database.MakeUnreachableAsync();
        HttpResponseMessage response;
        var clock = Stopwatch.StartNew();
        try
        {
            response = await http.GetAsync("readyz");
        }
        finally
        {
            await outage.DisposeAsync();
        }

        clock.Stop();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(HealthEndpoints.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.True(clock.Elapsed < HealthEndpoints.CheckTimeout + TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        using (var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal("not_ready", body.RootElement.GetProperty("status").GetString());
            var checks = body.RootElement.GetProperty("checks");
            Assert.NotEqual("ok", checks.GetProperty("database").GetString());
            Assert.NotEqual("ok", checks.GetProperty("migrations").GetString());
            Assert.Equal("ok", checks.GetProperty("signing_keys").GetString());
        }

        // Back: the next probes find it again, without a restart.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        HttpStatusCode status;
        do
        {
            status = (await http.GetAsync("readyz")).StatusCode;
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline && await Delay());

        Assert.Equal(HttpStatusCode.OK, status);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }
}
