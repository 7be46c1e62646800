using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

public sealed class ConfigurationReloadTests
{
    private static async Task<(TesseraTestServer Server, FakeUpstreamIdp Idp, string File)> StartFromFileAsync()
    {
        var idp = await FakeUpstreamIdp.StartAsync();
        var database = await TestDatabase.CreateAsync();
        var options = TestConfiguration.Create(database.Storage);
        var file = ConfigurationFile.Write(options);
        var server = await TesseraTestServer.StartAsync(o =>
        {
            o.Keys = options.Keys;
            o.Storage = options.Storage;
        }, configFile: file, database: database);
        return (server, idp, file);
    }

    [Fact]
    public async Task A_connection_added_to_the_file_works_without_a_restart()
    {
        var (server, idp, file) = await StartFromFileAsync();
        await using var _ = server;
        await using var __ = idp;
        using var browser = server.CreateBrowser();
        var refused = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["connection"] = TestConfiguration.Connection });
        Assert.Equal("invalid_request", refused.Error);

        var lastAuditId = (await server.AuditAsync()).Last().Id;
        var updated = ConfigurationLoader.LoadFile(file).Options!;
        TestConfiguration.AddStMarys(updated, idp);
        ConfigurationFile.Write(updated, file);
        var reload = await server.Service<ConfigurationWatcher>().ReloadAsync(CancellationToken.None);

        Assert.True(reload.Succeeded, string.Join("; ", reload.Errors));
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["connection"] = TestConfiguration.Connection });
        Assert.NotNull(outcome.Code);
        // Start-up records configuration.applied too: only a row written after the change counts.
        Assert.Contains(await server.AuditAsync(), a => a.Event == "configuration.applied" && a.Id > lastAuditId);
    }

    [Fact]
    public async Task The_file_watcher_applies_a_changed_client_by_itself()
    {
        var (server, idp, file) = await StartFromFileAsync();
        await using var _ = server;
        await using var __ = idp;
        using var http = server.CreateClient();
        var updated = ConfigurationLoader.LoadFile(file).Options!;
        updated.Clients.Single(c => c.ClientId == TestConfiguration.ServiceClient).Scopes.Add("audit:read");

        ConfigurationFile.Write(updated, file);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        OauthResponse response;
        do
        {
            await Task.Delay(250);
            response = await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "audit:read");
        }
        while (response.Status != 200 && DateTime.UtcNow < deadline);
        Assert.True(response.Status == 200, string.Join("\n", server.Logs.Lines));
    }

    [Fact]
    public async Task A_bad_file_is_refused_whole_and_the_running_configuration_stays()
    {
        var (server, idp, file) = await StartFromFileAsync();
        await using var _ = server;
        await using var __ = idp;
        using var http = server.CreateClient();
        var updated = ConfigurationLoader.LoadFile(file).Options!;
        updated.Clients.Single(c => c.ClientId == TestConfiguration.ServiceClient).Scopes.Add("audit:read"); // a good change...
        updated.Clients.Add(new ClientOptions { ClientId = "broken", Type = "confidential", GrantTypes = ["implicit"] }); // ...and a bad one
        ConfigurationFile.Write(updated, file);

        var reload = await server.Service<ConfigurationWatcher>().ReloadAsync(CancellationToken.None);

        Assert.False(reload.Succeeded);
        Assert.Contains(reload.Errors, e => e.Path == "$.Tessera.Clients[4].GrantTypes[0]");
        Assert.Equal("invalid_scope", (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "audit:read")).Error);
        Assert.Equal(200, (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "write:orders")).Status);
        var refused = Assert.Single(await server.AuditAsync(), a => a.Event == "configuration.refused");
        Assert.Contains("Clients[4]", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_read_only_at_start_refuse_a_reload_instead_of_being_ignored()
    {
        var (server, idp, file) = await StartFromFileAsync();
        await using var _ = server;
        await using var __ = idp;
        var updated = ConfigurationLoader.LoadFile(file).Options!;
        updated.Tokens.AccessToken = TimeSpan.FromMinutes(1);
        updated.Development.Demo = true;
        ConfigurationFile.Write(updated, file);

        var reload = await server.Service<ConfigurationWatcher>().ReloadAsync(CancellationToken.None);

        Assert.Contains(reload.Errors, e => e.Path == "$.Tessera.Tokens");
        Assert.Contains(reload.Errors, e => e.Path == "$.Tessera.Development.Demo");
        Assert.False(server.Service<TesseraConfiguration>().Current.Development.Demo);
    }

    [Fact]
    public async Task A_removed_client_loses_its_registration_and_its_tokens()
    {
        var (server, idp, file) = await StartFromFileAsync();
        await using var _ = server;
        await using var __ = idp;
        using var http = server.CreateClient();
        using var browser = server.CreateBrowser();
        var updated = ConfigurationLoader.LoadFile(file).Options!;
        TestConfiguration.AddStMarys(updated, idp);
        ConfigurationFile.Write(updated, file);
        Assert.True((await server.Service<ConfigurationWatcher>().ReloadAsync(CancellationToken.None)).Succeeded);
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.WebClient, TestConfiguration.WebRedirect, "openid offline_access",
            new Dictionary<string, string?> { ["login_hint"] = idp.Person.Email });
        var tokens = await Oauth.RedeemAsync(http, TestConfiguration.WebClient, TestConfiguration.WebSecret, TestConfiguration.WebRedirect, outcome);
        Assert.True(tokens.Status == 200, tokens.Json.ToString());
        Assert.NotEqual(0, await server.WithDbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken>().CountAsync()));

        updated.Clients.RemoveAll(c => c.ClientId == TestConfiguration.WebClient);
        ConfigurationFile.Write(updated, file);

        Assert.True((await server.Service<ConfigurationWatcher>().ReloadAsync(CancellationToken.None)).Succeeded);

        Assert.Equal("invalid_client", (await Oauth.RefreshAsync(http, TestConfiguration.WebClient, TestConfiguration.WebSecret, tokens["refresh_token"]!)).Error);
        Assert.Equal(0, await server.WithDbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken>().CountAsync()));
    }
}
