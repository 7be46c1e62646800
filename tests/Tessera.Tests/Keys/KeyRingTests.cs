using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Tessera.Keys;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Keys;

public sealed class KeyRingTests
{
    private static async Task<List<string>> PublishedKidsAsync(HttpClient http) =>
        new JsonWebKeySet(await http.GetStringAsync(".well-known/jwks.json")).Keys.Select(k => k.Kid).ToList();

    private static async Task<string> SigningKidAsync(HttpClient http) =>
        (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret)).AccessToken.Kid;

    [Fact]
    public async Task Private_keys_are_stored_only_encrypted_under_the_key_encryption_key()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var records = await server.WithDbAsync(db => db.Keys.AsNoTracking().ToListAsync());

        Assert.Equal(3, records.Count); // ES256 and RS256 signing, token encryption
        var kek = KeyEncryptionKey.Parse(server.Options.Keys.EncryptionKey);
        foreach (var record in records)
        {
            var material = kek.Unprotect(record.ProtectedKey, record.Id);
            Assert.False(record.ProtectedKey.AsSpan().IndexOf(material.AsSpan(material.Length / 2, 16)) >= 0, "plaintext key bytes appear in the stored value");
            Assert.Throws<AuthenticationTagMismatchException>(() => KeyEncryptionKey.Parse(KeyEncryptionKey.Generate()).Unprotect(record.ProtectedKey, record.Id));
            Assert.Throws<AuthenticationTagMismatchException>(() => kek.Unprotect(record.ProtectedKey, record.Id + "x"));
        }
    }

    [Fact]
    public async Task A_new_key_is_published_before_it_signs_and_the_old_one_stays_until_its_tokens_expire()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TesseraTestServer.StartAsync(o =>
        {
            o.Keys.RotationPeriod = TimeSpan.FromDays(30);
            o.Keys.PrePublication = TimeSpan.FromDays(2);
        }, time);
        using var http = server.CreateClient();
        var first = await SigningKidAsync(http);
        var oldToken = (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret))["access_token"]!;

        time.Advance(TimeSpan.FromDays(28) + TimeSpan.FromMinutes(1));
        await server.Keys.LoadAsync(CancellationToken.None);
        var published = await PublishedKidsAsync(http);
        Assert.Equal(4, published.Count); // each signing kind has a successor waiting
        Assert.Equal(first, await SigningKidAsync(http)); // ...that does not sign yet

        time.Advance(TimeSpan.FromDays(2));
        var second = await SigningKidAsync(http);
        Assert.NotEqual(first, second);
        Assert.Contains(second, published);
        Assert.Contains(first, await PublishedKidsAsync(http)); // retired, still verifying

        time.Advance(KeyRing.RetentionAfterRetirement(server.Service<Tessera.Hosting.TesseraConfiguration>().Current) + TimeSpan.FromMinutes(1));
        await server.Keys.LoadAsync(CancellationToken.None);
        Assert.DoesNotContain(first, await PublishedKidsAsync(http));
        _ = oldToken;
    }

    [Fact]
    public async Task Tokens_signed_before_a_rotation_still_introspect_after_it()
    {
        await using var server = await TesseraTestServer.StartAsync(o =>
            o.Clients.Single(c => c.ClientId == TestConfiguration.ResourceServer).Audiences.Add(TestConfiguration.OrdersAudience));
        using var http = server.CreateClient();
        var before = (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret))["access_token"]!;

        await server.Keys.RotateAsync(immediate: true, CancellationToken.None);
        var after = (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret))["access_token"]!;

        Assert.NotEqual(new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(before).Kid, new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(after).Kid);
        var introspection = await Oauth.IntrospectAsync(http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, before);
        Assert.True(introspection.Json.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task A_planned_rotation_publishes_now_and_signs_after_the_pre_publication_window()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TesseraTestServer.StartAsync(o => o.Keys.PrePublication = TimeSpan.FromHours(6), time);
        using var http = server.CreateClient();
        var current = await SigningKidAsync(http);

        var created = await server.Keys.RotateAsync(immediate: false, CancellationToken.None);
        var successor = created.Single(k => k.Algorithm == "ES256").Id;
        var again = await server.Keys.RotateAsync(immediate: false, CancellationToken.None);

        Assert.Empty(again); // a rotation already under way is not doubled
        Assert.Contains(successor, await PublishedKidsAsync(http));
        Assert.Equal(current, await SigningKidAsync(http));
        time.Advance(TimeSpan.FromHours(6));
        Assert.Equal(successor, await SigningKidAsync(http));
    }
}
