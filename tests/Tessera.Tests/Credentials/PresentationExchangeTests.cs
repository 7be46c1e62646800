using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Credentials;
using Tessera.Credentials.SdJwt;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;
using static Tessera.Tests.Credentials.TestVerifierApp;

namespace Tessera.Tests.Credentials;

/// <summary>
/// A verified SD-JWT VC presentation as the subject token of a token exchange (RFC 8693): the app takes a nonce, the
/// wallet binds its presentation to it and to the app's client_id, and the exchange yields a Tessera access token with
/// only what was disclosed, for the policy's audience, once per nonce.
/// </summary>
public sealed class PresentationExchangeTests
{
    private const string AgeGate = "age-gate";
    private const string OtherGate = "age-gate-b";
    private const string Exchange = "urn:ietf:params:oauth:grant-type:token-exchange";
    private static readonly string Secret = Tessera.Protocol.ClientSecretHasher.Generate();

    private static void Configure(TesseraOptions options)
    {
        TestVerifierApp.Configure(options);
        foreach (var client in new[] { AgeGate, OtherGate })
        {
            options.Clients.Add(new ClientOptions
            {
                ClientId = client,
                Type = "confidential",
                ClientSecret = Secret,
                GrantTypes = [Exchange],
                Scopes = ["read:orders", "write:orders"],
                Audiences = [TestConfiguration.OrdersAudience],
            });
            options.Presentations.Single(p => p.Id == Presentation).Clients.Add(client);
            options.ExchangePolicies.Add(new ExchangePolicyOptions
            {
                ClientId = client,
                Presentations = [Presentation],
                Audiences = [TestConfiguration.OrdersAudience],
                Scopes = ["read:orders"],
                Impersonation = true,
                MaxLifetime = TimeSpan.FromMinutes(2),
            });
        }
    }

    public sealed record Scene(TesseraTestServer Server, HttpClient Http, TestWallet Wallet, string Credential) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Wallet.Dispose();
            Http.Dispose();
            await Server.DisposeAsync();
        }
    }

    private static async Task<Scene> StartAsync(string birthdate = "1990-05-01")
    {
        var server = await TesseraTestServer.StartAsync(Configure);
        var http = server.CreateClient();
        var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);
        var user = await CredentialIssuingTests.AddUserAsync(server, birthdate);
        var credential = await wallet.CredentialAsync(await CredentialIssuingTests.PreAuthorizedTokenAsync(server, user), "age");
        return new Scene(server, http, wallet, credential);
    }

    private static async Task<JsonObject> NonceAsync(HttpClient http, string clientId = AgeGate, string? secret = null)
    {
        var (status, body) = await SendAsync(http, Authenticated("presentations/nonce", new() { ["presentation"] = Presentation }, clientId, secret ?? Secret));
        Assert.True(status == 200, body.ToJsonString());
        return body;
    }

    /// <summary>What the wallet does with the nonce answer: the disclosures the query asks for, bound to the nonce and the app's client_id.</summary>
    private static string Present(Scene scene, JsonObject nonce, string? audience = null) =>
        Answer(scene.Wallet, scene.Credential, new JsonObject
        {
            ["client_id"] = audience ?? nonce["aud"]!.GetValue<string>(),
            ["nonce"] = nonce["nonce"]!.GetValue<string>(),
            ["dcql_query"] = nonce["dcql_query"]!.DeepClone(),
        });

    private static Task<OauthResponse> ExchangeAsync(HttpClient http, string presentation, string? tokenType = null, Dictionary<string, string>? extra = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = Exchange,
            ["subject_token"] = presentation,
            ["subject_token_type"] = tokenType ?? PresentationExchange.TokenType,
        };
        foreach (var (name, value) in extra ?? [])
        {
            form[name] = value;
        }

        return Oauth.TokenAsync(http, form, (AgeGate, Secret));
    }

    [Fact]
    public async Task A_presentation_bound_to_the_apps_nonce_becomes_an_access_token_with_only_the_disclosed_claim()
    {
        await using var scene = await StartAsync();
        var nonce = await NonceAsync(scene.Http);
        Assert.Equal(AgeGate, nonce["aud"]!.GetValue<string>());
        Assert.Equal(PresentationExchange.TokenType, nonce["subject_token_type"]!.GetValue<string>());

        var response = await ExchangeAsync(scene.Http, Present(scene, nonce));

        Assert.True(response.Status == 200, response.Json.ToString());
        Assert.Equal("urn:ietf:params:oauth:token-type:access_token", response["issued_token_type"]);
        var token = response.AccessToken;
        Assert.True(token.GetPayloadValue<bool>("age_over_21"));
        Assert.Equal(JsonValueKind.True, JsonDocument.Parse(Base64UrlEncoder.Decode(token.EncodedPayload)).RootElement.GetProperty("age_over_21").ValueKind);
        Assert.Equal([TestConfiguration.OrdersAudience], token.Audiences);
        Assert.Equal("read:orders", token.GetPayloadValue<string>("scope"));
        Assert.True(token.ValidTo <= DateTime.UtcNow.AddMinutes(2).AddSeconds(5), "outlives the policy's MaxLifetime");
        Assert.False(Guid.TryParse(token.Subject, out _)); // a pairwise holder subject, no user
        foreach (var absent in new[] { "birthdate", "org", "given_name", "age_equal_or_over", "vct", "cnf" })
        {
            Assert.False(token.TryGetPayloadValue<object>(absent, out _), $"{absent} reached the token");
        }

        // The same holder gets the same subject on a second nonce; the API sees the token as active.
        var again = await ExchangeAsync(scene.Http, Present(scene, await NonceAsync(scene.Http)));
        Assert.Equal(token.Subject, again.AccessToken.Subject);
        var introspected = await Oauth.IntrospectAsync(scene.Http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, response["access_token"]!);
        Assert.Equal("true", introspected["active"]);

        var audit = await scene.Server.AuditAsync(rows => rows.Count(r => r.Event == AuditEvents.TokenExchanged) == 2);
        Assert.Contains(audit, a => a.Event == AuditEvents.PresentationVerified && a.ClientId == AgeGate && (a.Detail ?? "").Contains("\"flow\":\"exchange\"", StringComparison.Ordinal));
        Assert.DoesNotContain(audit, a => (a.Detail ?? "").Contains("1990", StringComparison.Ordinal));
    }

    public static TheoryData<string, Func<Scene, HttpClient, Task<OauthResponse>>, string, string> Rows => new()
    {
        { "the presentation replayed with its spent nonce", async (s, h) =>
            {
                var presented = Present(s, await NonceAsync(h));
                Assert.Equal(200, (await ExchangeAsync(h, presented)).Status);
                return await ExchangeAsync(h, presented);
            }, "invalid_request", "nonce_used" },
        { "a nonce Tessera never gave", async (s, h) => await ExchangeAsync(h, Present(s, new JsonObject
            {
                ["aud"] = AgeGate, ["nonce"] = "made-up-nonce", ["dcql_query"] = (await NonceAsync(h))["dcql_query"]!.DeepClone(),
            })), "invalid_request", "nonce_unknown" },
        { "a nonce another client took", async (s, h) => await ExchangeAsync(h, Present(s, await NonceAsync(h, OtherGate), AgeGate)),
            "invalid_request", "nonce_unknown" },
        { "an expired nonce", async (s, h) =>
            {
                var nonce = await NonceAsync(h);
                await s.Server.WithDbAsync(db => db.PresentationRequests.Where(r => r.Purpose == PresentationRequestRecord.Exchange)
                    .ExecuteUpdateAsync(set => set.SetProperty(r => r.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));
                return await ExchangeAsync(h, Present(s, nonce));
            }, "invalid_request", "nonce_expired" },
        { "key binding for another audience", async (s, h) => await ExchangeAsync(h, Present(s, await NonceAsync(h), "redirect_uri:https://evil.example/response")),
            "invalid_request", "key_binding_audience_mismatch" },
        { "no key binding", async (s, h) => await ExchangeAsync(h, s.Credential.Split('~')[0] + "~"), "invalid_request", "key_binding_missing" },
        { "a key-binding part that is not a JWT", async (s, h) => await ExchangeAsync(h, s.Credential.Split('~')[0] + "~not-a-jwt"), "invalid_request", "malformed" },
        { "the presentation as an actor token", async (s, h) => await Oauth.TokenAsync(h, new Dictionary<string, string>
            {
                ["grant_type"] = Exchange, ["subject_token"] = Present(s, await NonceAsync(h)), ["subject_token_type"] = PresentationExchange.TokenType,
                ["actor_token"] = Present(s, await NonceAsync(h)), ["actor_token_type"] = PresentationExchange.TokenType,
            }, (AgeGate, Secret)), "invalid_request", "actor_token_type" },
        { "the presentation sent as a jwt", async (s, h) => await ExchangeAsync(h, Present(s, await NonceAsync(h)), "urn:ietf:params:oauth:token-type:jwt"),
            "invalid_request", "malformed" },
        { "an ID token asked for", async (s, h) => await ExchangeAsync(h, Present(s, await NonceAsync(h)),
            extra: new() { ["requested_token_type"] = "urn:ietf:params:oauth:token-type:id_token" }), "invalid_request", "token_type" },
        { "a scope beyond the policy", async (s, h) => await ExchangeAsync(h, Present(s, await NonceAsync(h)), extra: new() { ["scope"] = "write:orders" }),
            "invalid_scope", "scope" },
        { "an audience beyond the policy", async (s, h) => await ExchangeAsync(h, Present(s, await NonceAsync(h)), extra: new() { ["audience"] = TestConfiguration.ReportsAudience }),
            "invalid_target", "audience" },
        { "a client no exchange policy names", async (s, h) =>
            {
                var nonce = await NonceAsync(h);
                return await Oauth.TokenAsync(h, new Dictionary<string, string>
                {
                    ["grant_type"] = Exchange, ["subject_token"] = Present(s, nonce), ["subject_token_type"] = PresentationExchange.TokenType,
                }, (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret));
            }, "unauthorized_client", "" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task A_hostile_exchange_is_refused_with_its_rule_and_issues_nothing(string attack, Func<Scene, HttpClient, Task<OauthResponse>> send, string error, string rule)
    {
        await using var scene = await StartAsync();

        var response = await send(scene, scene.Http);

        Assert.True(response.Status is 400 or 401, $"{attack}: {response.Status} {response.Json}");
        Assert.True(response.Error == error, $"{attack}: {response.Json}");
        Assert.Null(response["access_token"]);
        if (rule.Length > 0)
        {
            var audit = await scene.Server.AuditAsync(rows => rows.Any(r => r.Event == AuditEvents.TokenExchangeRefused));
            var refused = audit.Last(a => a.Event == AuditEvents.TokenExchangeRefused);
            Assert.True((refused.Reason ?? "").Contains(rule, StringComparison.Ordinal), $"{attack}: {refused.Reason}");
        }
    }

    [Fact]
    public async Task A_holder_under_21_cannot_answer_the_query_and_a_revoked_credential_is_refused()
    {
        await using var young = await StartAsync(birthdate: DateTime.UtcNow.AddYears(-19).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        var nonce = await NonceAsync(young.Http);
        var held = SdJwtHolder.Read(young.Credential).Value!;
        var eighteen = held.DisclosuresFor([ClaimPath.Of("age_equal_or_over", "18")]).Value!;
        var presented = new SdJwtHolder(TimeProvider.System).Present(held, eighteen, new KeyBindingRequest(AgeGate, nonce["nonce"]!.GetValue<string>(),
            new SigningCredentials(young.Wallet.Key, SecurityAlgorithms.EcdsaSha256)));
        var refused = await ExchangeAsync(young.Http, presented);
        Assert.Equal(("invalid_request", 400), (refused.Error, refused.Status));

        var youngAudit = await young.Server.AuditAsync(rows => rows.Any(r => r.Event == AuditEvents.TokenExchangeRefused));
        Assert.Contains(youngAudit, a => a.Event == AuditEvents.TokenExchangeRefused && (a.Reason ?? "").StartsWith("subject_token.query_not_answered", StringComparison.Ordinal));

        await using var adult = await StartAsync();
        await adult.Server.WithDbAsync(db => db.IssuedCredentials.ExecuteUpdateAsync(set => set.SetProperty(c => c.RevokedAt, DateTime.UtcNow)));
        var revoked = await ExchangeAsync(adult.Http, Present(adult, await NonceAsync(adult.Http)));
        Assert.Equal(("invalid_request", 400), (revoked.Error, revoked.Status));
        var audit = await adult.Server.AuditAsync(rows => rows.Any(r => r.Event == AuditEvents.TokenExchangeRefused));
        Assert.Contains(audit, a => a.Event == AuditEvents.TokenExchangeRefused && (a.Reason ?? "").StartsWith("subject_token.revoked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_nonce_endpoint_answers_only_an_authenticated_client_whose_policy_names_the_presentation()
    {
        await using var scene = await StartAsync();

        var (unknown, unknownBody) = await SendAsync(scene.Http, Authenticated("presentations/nonce", new() { ["presentation"] = "nope" }, AgeGate, Secret));
        var (notPoliced, notPolicedBody) = await SendAsync(scene.Http, Authenticated("presentations/nonce", new() { ["presentation"] = Presentation }));
        var (wrongSecret, _) = await SendAsync(scene.Http, Authenticated("presentations/nonce", new() { ["presentation"] = Presentation }, AgeGate, "wrong-secret-0123"));

        Assert.Equal((400, "invalid_request"), (unknown, unknownBody["error"]!.GetValue<string>()));
        Assert.Equal((403, "unauthorized_client"), (notPoliced, notPolicedBody["error"]!.GetValue<string>())); // billing-web may ask, not exchange
        Assert.Equal(401, wrongSecret);
        Assert.Equal(0, await scene.Server.WithDbAsync(db => db.PresentationRequests.CountAsync(r => r.Purpose == PresentationRequestRecord.Exchange)));

        // A nonce is no OpenID4VP request: neither its request object nor a result can be had with it.
        var nonce = await NonceAsync(scene.Http);
        var id = CredentialNonces.Hash(nonce["nonce"]!.GetValue<string>());
        using var requestObject = await scene.Http.GetAsync($"presentations/requests/{id}");
        Assert.Equal(404, (int)requestObject.StatusCode);
        var (redeemed, redeemedBody) = await SendAsync(scene.Http, Authenticated("presentations/result", new() { ["request_id"] = id }, AgeGate, Secret));
        Assert.Equal((400, "invalid_grant"), (redeemed, redeemedBody["error"]!.GetValue<string>()));
    }
}
