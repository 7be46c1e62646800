using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Tests.Infrastructure;
using static Tessera.Tests.Infrastructure.ExchangeArrangement;

namespace Tessera.Tests.Exchange;

public sealed class TokenExchangeTests : IAsyncLifetime
{
    private ExchangeArrangement _x = null!;

    // A short refresh interval, so the rotation test need not wait the default 30 s after warming the cache.
    public async Task InitializeAsync() => _x = await ExchangeArrangement.StartAsync(options => options.TrustedIssuers[0].Keys.RefreshInterval = RefreshInterval);

    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    public async Task DisposeAsync() => await _x.DisposeAsync();

    [Fact]
    public async Task A_partner_token_becomes_a_Tessera_access_token_for_the_policy_audience()
    {
        var response = await _x.ExchangeAsync(_x.PortalToken(), extra: new Dictionary<string, string?> { ["scope"] = "write:orders" });

        Assert.True(response.Status == 200, response.Json.ToString());
        Assert.Equal(AccessTokenType, response["issued_token_type"]);
        Assert.Equal("Bearer", response["token_type"]);
        Assert.Equal("write:orders", response["scope"]);
        var token = response.AccessToken;
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal([TestConfiguration.OrdersAudience], token.Audiences);
        Assert.Equal("write:orders", token.GetPayloadValue<string>("scope"));
        Assert.True(Guid.TryParse(token.Subject, out _), token.Subject);
        Assert.Equal(Gateway, token.GetPayloadValue<string>("client_id"));
        Assert.False(token.TryGetPayloadValue<object>("act", out _));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token.EncodedToken, new TokenValidationParameters
        {
            ValidIssuer = TesseraTestServer.Issuer + "/",
            ValidAudience = TestConfiguration.OrdersAudience,
            IssuerSigningKeys = (await _x.JwksAsync()).GetSigningKeys(),
            ValidTypes = ["at+jwt"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public async Task The_same_foreign_subject_maps_to_the_same_user_through_its_identity_link()
    {
        var first = await _x.ExchangeAsync(_x.PortalToken("ext-1"));
        var second = await _x.ExchangeAsync(_x.PortalToken("ext-1"));
        var other = await _x.ExchangeAsync(_x.PortalToken("ext-2"));

        Assert.Equal(first.AccessToken.Subject, second.AccessToken.Subject);
        Assert.NotEqual(first.AccessToken.Subject, other.AccessToken.Subject);
        var link = await _x.Server.WithDbAsync(db => db.ExternalIdentities.SingleAsync(l => l.Subject == "ext-1"));
        Assert.Equal("partner-portal", link.ConnectionId);
        Assert.Equal(TestConfiguration.Organization, link.OrganizationId);
        Assert.Equal(first.AccessToken.Subject, link.UserId.ToString());
    }

    [Fact]
    public async Task Delegation_names_the_actor_in_act_and_nests_the_subject_tokens_own_chain()
    {
        var actor = await _x.ServiceTokenAsync();
        var subject = _x.PortalToken(change: c => c["act"] = new Dictionary<string, object> { ["sub"] = "portal-frontend" });

        var response = await _x.ExchangeAsync(subject, extra: new() { ["actor_token"] = actor, ["actor_token_type"] = AccessTokenType });

        Assert.True(response.Status == 200, response.Json.ToString());
        var act = response.AccessToken.GetPayloadValue<JsonElement>("act");
        Assert.Equal(Gateway, act.GetProperty("sub").GetString());
        Assert.Equal(TesseraTestServer.Issuer + "/", act.GetProperty("iss").GetString());
        Assert.Equal("portal-frontend", act.GetProperty("act").GetProperty("sub").GetString());
    }

    [Fact]
    public async Task May_act_naming_the_actor_lets_it_act()
    {
        var actor = await _x.ServiceTokenAsync();
        var subject = _x.PortalToken(change: c => c["may_act"] = new Dictionary<string, object> { ["sub"] = Gateway, ["iss"] = TesseraTestServer.Issuer });

        var response = await _x.ExchangeAsync(subject, extra: new() { ["actor_token"] = actor, ["actor_token_type"] = AccessTokenType });

        Assert.True(response.Status == 200, response.Json.ToString());
        Assert.Equal(Gateway, response.AccessToken.GetPayloadValue<JsonElement>("act").GetProperty("sub").GetString());
    }

    [Fact]
    public async Task Claims_follow_the_issuers_mappings_and_rules()
    {
        var doctor = await _x.ExchangeAsync(_x.PortalToken("doc", c => { c["role"] = "doctor"; c["department"] = "cardiology"; }),
            extra: new() { ["audience"] = TestConfiguration.ReportsAudience });
        var clerk = await _x.ExchangeAsync(_x.PortalToken("clerk", c => c["role"] = "clerk"),
            extra: new() { ["audience"] = TestConfiguration.ReportsAudience });

        Assert.True(doctor.Status == 200, doctor.Json.ToString());
        Assert.Equal("doctor_access", doctor.AccessToken.GetPayloadValue<string>("scope"));
        Assert.Equal("cardiology", doctor.AccessToken.GetPayloadValue<string>("dept"));
        Assert.Equal([TestConfiguration.ReportsAudience], doctor.AccessToken.Audiences);
        Assert.Equal("invalid_scope", clerk.Error);
    }

    [Fact]
    public async Task A_Tessera_user_token_is_exchanged_for_the_same_user_with_the_scopes_its_sign_in_earned()
    {
        var (_, tokens) = await _x.Host.SignInAsync(_x.Server.CreateBrowser());
        var original = tokens.AccessToken;

        var orders = await _x.ExchangeAsync(original.EncodedToken, AccessTokenType, extra: new() { ["scope"] = "read:orders" });
        var reports = await _x.ExchangeAsync(original.EncodedToken, AccessTokenType, extra: new() { ["resource"] = TestConfiguration.ReportsAudience });

        Assert.True(orders.Status == 200, orders.Json.ToString());
        Assert.Equal(original.Subject, orders.AccessToken.Subject);
        Assert.Equal(original.GetPayloadValue<string>("sid"), orders.AccessToken.GetPayloadValue<string>("sid"));
        Assert.Equal("read:orders", orders.AccessToken.GetPayloadValue<string>("scope"));
        Assert.True(orders.AccessToken.ValidTo <= original.ValidTo);
        Assert.Equal("doctor_access", reports.AccessToken.GetPayloadValue<string>("scope")); // Alice is in Doctors
    }

    [Fact]
    public async Task A_Tessera_token_is_exchanged_only_by_its_client_or_a_client_of_its_API()
    {
        var (_, tokens) = await _x.Host.SignInAsync(_x.Server.CreateBrowser());

        // The token was issued to reports-web for the reports API. The gateway is registered for that API; the
        // delegate-only client is neither the token's client nor registered for its API.
        Assert.Equal(200, (await _x.ExchangeAsync(tokens["access_token"]!, AccessTokenType)).Status);
        var response = await _x.ExchangeAsync(tokens["access_token"]!, AccessTokenType, DelegateOnly, new() { ["actor_token"] = await _x.ServiceTokenAsync(DelegateOnly), ["actor_token_type"] = AccessTokenType });

        Assert.Equal("invalid_request", response.Error);
    }

    [Fact]
    public async Task The_requested_token_type_decides_what_is_issued()
    {
        var jwt = await _x.ExchangeAsync(_x.PortalToken(), extra: new() { ["requested_token_type"] = JwtType });
        var idToken = await _x.ExchangeAsync(_x.PortalToken(), extra: new() { ["requested_token_type"] = "urn:ietf:params:oauth:token-type:id_token" });

        Assert.True(jwt.Status == 200, jwt.Json.ToString());
        Assert.Equal(JwtType, jwt["issued_token_type"]);
        Assert.Equal("N_A", jwt["token_type"]);
        Assert.Equal("JWT", jwt.AccessToken.Typ);
        Assert.Equal([TestConfiguration.OrdersAudience], jwt.AccessToken.Audiences);
        Assert.Equal("read:orders write:orders", jwt.AccessToken.GetPayloadValue<string>("scope"));
        Assert.False(string.IsNullOrEmpty(jwt.AccessToken.Id));
        Assert.DoesNotContain(jwt.AccessToken.Claims, c => c.Type.StartsWith("oi_", StringComparison.Ordinal));

        Assert.True(idToken.Status == 200, idToken.Json.ToString());
        Assert.Equal("urn:ietf:params:oauth:token-type:id_token", idToken["issued_token_type"]);
        Assert.Equal("JWT", idToken.AccessToken.Typ);
        Assert.Equal(Gateway, idToken.AccessToken.GetPayloadValue<string>("azp"));
        foreach (var response in new[] { jwt, idToken })
        {
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(response["access_token"], new TokenValidationParameters
            {
                ValidIssuer = TesseraTestServer.Issuer + "/",
                ValidAudience = TestConfiguration.OrdersAudience,
                IssuerSigningKeys = (await _x.JwksAsync()).GetSigningKeys(),
            });
            Assert.True(result.IsValid, result.Exception?.Message);
        }
    }

    [Fact]
    public async Task A_burst_of_exchanges_after_the_issuer_rotates_its_key_costs_it_one_key_set_request()
    {
        Assert.Equal(200, (await _x.ExchangeAsync(_x.PortalToken("warm"))).Status);
        Assert.Equal(1, _x.Portal.Requests);
        await Task.Delay(RefreshInterval + TimeSpan.FromMilliseconds(200));
        _x.Portal.Publish("portal-2");

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => _x.ExchangeAsync(_x.PortalToken($"burst-{i % 20}", kid: "portal-2"))));

        Assert.All(responses, r => Assert.True(r.Status == 200, r.Json.ToString()));
        Assert.Equal(2, _x.Portal.Requests);

        // A kid that stays unknown costs at most one more request per interval, however many tokens carry it.
        using var stranger = System.Security.Cryptography.RSA.Create(2048);
        var forgedToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = PortalClaims(),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(stranger) { KeyId = "never-published" }, SecurityAlgorithms.RsaSha256),
        });
        var forged = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _x.ExchangeAsync(forgedToken)));
        Assert.All(forged, r => Assert.Equal("invalid_request", r.Error));
        Assert.True(_x.Portal.Requests <= 3, $"{_x.Portal.Requests} key-set requests");
    }

    [Fact]
    public async Task Every_exchange_is_audited_with_subject_actor_issuer_audience_and_scopes()
    {
        var response = await _x.ExchangeAsync(_x.PortalToken("audited"), extra: new()
        {
            ["actor_token"] = await _x.ServiceTokenAsync(),
            ["actor_token_type"] = AccessTokenType,
            ["scope"] = "read:orders",
        });
        Assert.Equal(200, response.Status);

        var row = (await _x.Server.AuditAsync()).Last(r => r.Event == "token.exchanged");
        Assert.Equal(response.AccessToken.Subject, row.UserId);
        Assert.Equal(Gateway, row.ClientId);
        Assert.Equal(TestConfiguration.Organization, row.OrganizationId);
        var detail = JsonDocument.Parse(row.Detail!).RootElement;
        Assert.Equal("partner-portal", detail.GetProperty("subject_issuer").GetString());
        Assert.Equal("audited", detail.GetProperty("subject").GetString());
        Assert.Equal("tessera", detail.GetProperty("actor_issuer").GetString());
        Assert.Equal(Gateway, detail.GetProperty("actor").GetString());
        Assert.Equal(TestConfiguration.OrdersAudience, detail.GetProperty("audience").GetString());
        Assert.Equal("read:orders", detail.GetProperty("scope").GetString());
        Assert.DoesNotContain(response["access_token"]!, row.Detail!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_advertises_the_token_exchange_grant()
    {
        var discovery = JsonDocument.Parse(await _x.Http.GetStringAsync(".well-known/openid-configuration")).RootElement;

        Assert.Contains(ExchangeArrangement.Exchange, discovery.GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString()));
    }

    [Fact]
    public async Task An_issuer_linked_to_a_connection_maps_its_subjects_to_the_users_who_sign_in_through_it()
    {
        await using var linked = await ExchangeArrangement.StartAsync(options => options.TrustedIssuers[0].Connection = TestConfiguration.Connection);
        var (_, tokens) = await linked.Host.SignInAsync(linked.Server.CreateBrowser());

        var response = await linked.ExchangeAsync(linked.PortalToken(linked.Host.Idp.Person.Subject));

        Assert.True(response.Status == 200, response.Json.ToString());
        Assert.Equal(tokens.AccessToken.Subject, response.AccessToken.Subject);
    }

    [Fact]
    public async Task A_remembered_link_whose_user_was_deleted_is_looked_up_afresh()
    {
        var first = await _x.ExchangeAsync(_x.PortalToken("removed"));
        Assert.Equal(first.AccessToken.Subject, (await _x.ExchangeAsync(_x.PortalToken("removed"))).AccessToken.Subject);
        await _x.Server.WithDbAsync(async db =>
        {
            db.ExternalIdentities.RemoveRange(db.ExternalIdentities.Where(l => l.Subject == "removed"));
            db.Users.RemoveRange(db.Users.Where(u => u.Id == Guid.Parse(first.AccessToken.Subject)));
            return await db.SaveChangesAsync();
        });

        var again = await _x.ExchangeAsync(_x.PortalToken("removed"));
        var then = await _x.ExchangeAsync(_x.PortalToken("removed"));

        Assert.True(again.Status == 200, again.Json.ToString());
        Assert.NotEqual(first.AccessToken.Subject, again.AccessToken.Subject); // created anew, just in time
        Assert.Equal(again.AccessToken.Subject, then.AccessToken.Subject);
    }
}
