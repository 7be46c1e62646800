using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Admin;

/// <summary>Managed clients: secrets Tessera generates, shows once, keeps as hashes, and rotates with an overlap.</summary>
public sealed class ClientResourceTests
{
    private static object Client(string id = "warehouse") =>
        new { ClientId = id, Type = "confidential", GrantTypes = new[] { "client_credentials" }, Scopes = new[] { "write:stock" }, Audiences = new[] { "https://stock.internal" } };

    [Fact]
    public async Task A_created_client_gets_a_secret_shown_once_that_works_at_once()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var admin = await AdminApi.PlatformAsync(env.Server);

        var created = await AdminApi.PostAsync(admin, "clients", Client());
        var secret = created.Body["client_secret"]!.GetValue<string>();
        var token = await Oauth.ClientCredentialsAsync(env.Http, "warehouse", secret, "write:stock");
        var shown = await AdminApi.GetAsync(admin, "clients/warehouse");

        Assert.Equal(201, created.Status);
        Assert.Equal("no-store", created.Message.Headers.CacheControl!.ToString());
        Assert.StartsWith("tsec_", secret, StringComparison.Ordinal);
        Assert.Equal(200, token.Status);
        Assert.Equal(["https://stock.internal"], token.AccessToken.Audiences);
        Assert.DoesNotContain(secret, shown.Json!.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(shown.Body["client_secret"]);
        Assert.Single(shown.Body["client_secrets"]!.AsArray());
        var stored = await env.Server.WithDbAsync(db => db.Set<OpenIddictEntityFrameworkCoreApplication>().SingleAsync(a => a.ClientId == "warehouse"));
        Assert.StartsWith("sha256:", stored.ClientSecret, StringComparison.Ordinal);
        Assert.DoesNotContain(env.Server.Logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(await env.Server.AuditAsync(), a => (a.Detail ?? "").Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rotated_secret_overlaps_the_old_one_which_can_also_be_cut_off_at_once()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var admin = await AdminApi.PlatformAsync(env.Server);
        var old = (await AdminApi.PostAsync(admin, "clients", Client())).Body["client_secret"]!.GetValue<string>();

        var rotated = await AdminApi.PostAsync(admin, "clients/warehouse/secrets?overlap=01:00:00");
        var fresh = rotated.Body["client_secret"]!.GetValue<string>();
        var oldDuringOverlap = await Oauth.ClientCredentialsAsync(env.Http, "warehouse", old);
        var freshAfterRotation = await Oauth.ClientCredentialsAsync(env.Http, "warehouse", fresh);
        var oldId = rotated.Body["previous"]!.AsArray().Single()!["id"]!.GetValue<string>();
        var revoked = await AdminApi.DeleteAsync(admin, $"clients/warehouse/secrets/{oldId}");
        var oldAfterRevocation = await Oauth.ClientCredentialsAsync(env.Http, "warehouse", old);
        var freshAfterRevocation = await Oauth.ClientCredentialsAsync(env.Http, "warehouse", fresh);

        Assert.Equal(201, rotated.Status);
        Assert.NotEqual(old, fresh);
        Assert.Equal(200, oldDuringOverlap.Status);
        Assert.Equal(200, freshAfterRotation.Status);
        Assert.Equal(204, revoked.Status);
        Assert.Equal("invalid_client", oldAfterRevocation.Error);
        Assert.Equal(200, freshAfterRevocation.Status);
    }

    [Fact]
    public async Task A_rotation_without_overlap_ends_the_old_secret_at_once()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var admin = await AdminApi.PlatformAsync(env.Server);
        var old = (await AdminApi.PostAsync(admin, "clients", Client())).Body["client_secret"]!.GetValue<string>();
        Assert.Equal(200, (await Oauth.ClientCredentialsAsync(env.Http, "warehouse", old)).Status); // admitted, and remembered

        var rotated = await AdminApi.PostAsync(admin, "clients/warehouse/secrets?overlap=00:00:00");

        Assert.Equal("invalid_client", (await Oauth.ClientCredentialsAsync(env.Http, "warehouse", old)).Error);
        Assert.Equal(200, (await Oauth.ClientCredentialsAsync(env.Http, "warehouse", rotated.Body["client_secret"]!.GetValue<string>())).Status);
    }

    [Fact]
    public async Task A_deleted_client_gets_no_more_tokens_and_its_admin_tokens_stop_working()
    {
        await using var env = await BrokeredSignIn.StartAsync(AdminApi.AddClients);
        using var admin = await AdminApi.PlatformAsync(env.Server);
        var created = await AdminApi.PostAsync(admin, "clients", new { ClientId = "ops-bot", Type = "confidential", GrantTypes = new[] { "client_credentials" }, Scopes = new[] { "tessera:admin" } });
        using var bot = await AdminApi.ClientAsync(env.Server, "ops-bot", created.Body["client_secret"]!.GetValue<string>());
        var before = await AdminApi.GetAsync(bot, "organizations");

        var deleted = await AdminApi.DeleteAsync(admin, "clients/ops-bot", ifMatch: created.ETag);
        var after = await AdminApi.GetAsync(bot, "organizations");

        Assert.Equal(200, before.Status);
        Assert.Equal(204, deleted.Status);
        Assert.Equal(401, after.Status);
        Assert.Equal("invalid_client", (await Oauth.ClientCredentialsAsync(env.Http, "ops-bot", created.Body["client_secret"]!.GetValue<string>())).Error);
    }
}
