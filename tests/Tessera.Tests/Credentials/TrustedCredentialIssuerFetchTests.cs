using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials;
using Tessera.Credentials.Status;
using Tessera.Tests.Infrastructure;
using static Tessera.Tests.Credentials.TestVerifierApp;

namespace Tessera.Tests.Credentials;

/// <summary>
/// A trusted credential issuer over real HTTP: its keys read from its JWT VC issuer metadata and fetched again for a
/// new <c>kid</c>, its status list fetched, verified and kept for its <c>ttl</c>, and a revoked entry refused.
/// </summary>
public sealed class TrustedCredentialIssuerFetchTests
{
    private sealed class Issuer
    {
        public string BaseUrl { get; set; } = "";
        public List<ECDsaSecurityKey> Published { get; } = [];
        public int MetadataRequests;
        public int StatusRequests;
        public string StatusUri => BaseUrl + "/status/1";

        public static ECDsaSecurityKey NewKey(string kid) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid };
    }

    [Fact]
    public async Task Keys_come_from_the_issuers_metadata_a_new_kid_is_fetched_again_and_the_status_list_is_cached_and_honored()
    {
        var issuer = new Issuer();
        var first = Issuer.NewKey("k1");
        var second = Issuer.NewKey("k2");
        issuer.Published.Add(first);
        var (app, baseUrl) = await LoopbackServer.StartAsync(web =>
        {
            web.MapGet("/.well-known/jwt-vc-issuer", () =>
            {
                Interlocked.Increment(ref issuer.MetadataRequests);
                var keys = new JsonArray();
                foreach (var key in issuer.Published)
                {
                    var jwk = PublicJwk.From(key)!;
                    jwk["kid"] = key.KeyId;
                    keys.Add(jwk);
                }

                return Results.Text(new JsonObject { ["issuer"] = issuer.BaseUrl, ["jwks"] = new JsonObject { ["keys"] = keys } }.ToJsonString(), "application/json");
            });
            web.MapGet("/status/1", () =>
            {
                Interlocked.Increment(ref issuer.StatusRequests);
                var list = new StatusList(1, 16);
                list[6] = (byte)TokenStatus.Invalid;
                var token = new StatusListTokens(TimeProvider.System).Create(new StatusListTokenRequest(issuer.StatusUri, list)
                {
                    Issuer = issuer.BaseUrl,
                    Lifetime = TimeSpan.FromHours(1),
                    TimeToLive = TimeSpan.FromMinutes(10),
                }, new SigningCredentials(first, SecurityAlgorithms.EcdsaSha256));
                return Results.Text(token, "application/statuslist+jwt");
            });
        });
        await using var _ = app;
        issuer.BaseUrl = baseUrl;

        await using var server = await TesseraTestServer.StartAsync(options =>
        {
            Configure(options);
            options.TrustedCredentialIssuers.Add(new TrustedCredentialIssuerOptions
            {
                Id = "county",
                Issuer = baseUrl,
                Vcts = [DmvVct],
                Keys = new Tessera.Hosting.IssuerKeyOptions { RefreshInterval = TimeSpan.FromSeconds(1) },
            });
        });
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);

        async Task<(int Status, JsonObject Body)> PresentAsync(string credential)
        {
            var created = await CreateAsync(http, redirectUri: null);
            var requestObject = await RequestObjectAsync(http, created);
            return await PostAsync(http, requestObject, VpToken(Answer(wallet, credential, requestObject)));
        }

        var valid = await PresentAsync(DmvCredential(wallet, issuer: baseUrl, key: first, status: new StatusReference(5, issuer.StatusUri)));
        Assert.True(valid.Status == 200, valid.Body.ToJsonString());

        var revoked = await PresentAsync(DmvCredential(wallet, issuer: baseUrl, key: first, status: new StatusReference(6, issuer.StatusUri)));
        Assert.Equal(400, revoked.Status);
        Assert.StartsWith("revoked:", revoked.Body["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal((1, 1), (issuer.MetadataRequests, issuer.StatusRequests)); // both lists and keys came from the caches

        // The issuer rotates: a credential under the new kid makes Tessera read the metadata again, once the floor has passed.
        issuer.Published.Add(second);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var rotated = await PresentAsync(DmvCredential(wallet, issuer: baseUrl, key: second, status: new StatusReference(5, issuer.StatusUri)));
        Assert.True(rotated.Status == 200, rotated.Body.ToJsonString());
        Assert.Equal(2, issuer.MetadataRequests);

        // A key the issuer never published is not found by asking again at once.
        var forged = await PresentAsync(DmvCredential(wallet, issuer: baseUrl, key: Issuer.NewKey("k3"), status: new StatusReference(5, issuer.StatusUri)));
        Assert.Equal(400, forged.Status);
        Assert.Equal(2, issuer.MetadataRequests);
    }
}
