using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;
using static Tessera.Tests.Infrastructure.ExchangeArrangement;

namespace Tessera.Tests.Exchange;

/// <summary>
/// Hostile token-exchange requests at the token endpoint, one row per attack, each expecting its protocol error
/// and the rule the audit row names. Every refusal changes nothing (no user is created) and says nothing about
/// keys. Rows that need a signed-in Tessera user are the facts below the theory.
/// </summary>
public sealed class HostileExchangeTests : IAsyncLifetime
{
    private ExchangeArrangement _x = null!;

    public async Task InitializeAsync() => _x = await ExchangeArrangement.StartAsync();

    public async Task DisposeAsync() => await _x.DisposeAsync();

    private static string Segment(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));

    private static long In(TimeSpan offset) => DateTimeOffset.UtcNow.Add(offset).ToUnixTimeSeconds();

    private sealed record Attack(string Error, string Rule, Func<ExchangeArrangement, Task<OauthResponse>> Send);

    private static Func<ExchangeArrangement, Task<OauthResponse>> Subject(Func<ExchangeArrangement, string> token, string type = JwtType, string client = Gateway, Dictionary<string, string?>? extra = null) =>
        x => x.ExchangeAsync(token(x), type, client, extra);

    private static string Forged(Dictionary<string, object> claims, SigningCredentials credentials) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor { Claims = claims, SigningCredentials = credentials });

    private static readonly Dictionary<string, Attack> Rows = new()
    {
        ["alg_none"] = new("invalid_request", "subject_token.algorithm", Subject(_ =>
            Segment("""{"alg":"none","typ":"JWT"}""") + "." + Segment($$"""{"iss":"{{PortalIssuer}}","aud":"{{TesseraAudience}}","ext_user_id":"admin","exp":{{In(TimeSpan.FromMinutes(5))}}}""") + ".")),
        ["hs256_keyed_with_the_issuers_public_key"] = new("invalid_request", "subject_token.algorithm", Subject(x =>
            Forged(PortalClaims(), new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(x.Portal.Key("portal-1").Rsa.ExportRSAPublicKeyPem())), SecurityAlgorithms.HmacSha256)))),
        ["unknown_kid_that_stays_unknown"] = new("invalid_request", "subject_token.unknown_key", Subject(_ =>
        {
            using var stranger = RSA.Create(2048);
            return Forged(PortalClaims(), new SigningCredentials(new RsaSecurityKey(stranger.ExportParameters(true)) { KeyId = "forged" }, SecurityAlgorithms.RsaSha256));
        })),
        ["jku_header_pointing_elsewhere"] = new("invalid_request", "subject_token.key_reference", Subject(x => x.Portal.Sign("portal-1", PortalClaims(), new() { ["jku"] = "https://evil.example/jwks" }))),
        ["x5u_header_pointing_elsewhere"] = new("invalid_request", "subject_token.key_reference", Subject(x => x.Portal.Sign("portal-1", PortalClaims(), new() { ["x5u"] = "https://evil.example/cert.pem" }))),
        ["embedded_jwk_header"] = new("invalid_request", "subject_token.key_reference", Subject(x => x.Portal.Sign("portal-1", PortalClaims(), new() { ["jwk"] = new Dictionary<string, object> { ["kty"] = "RSA", ["n"] = "AQAB", ["e"] = "AQAB" } }))),
        ["crit_with_an_unknown_extension"] = new("invalid_request", "subject_token.critical_header", Subject(x => x.Portal.Sign("portal-1", PortalClaims(), new() { ["crit"] = new[] { "exp-v2" }, ["exp-v2"] = true }))),
        ["expired"] = new("invalid_request", "subject_token.expired", Subject(x => x.PortalToken(change: c => c["exp"] = In(TimeSpan.FromMinutes(-5))))),
        ["nbf_in_the_future"] = new("invalid_request", "subject_token.not_yet_valid", Subject(x => x.PortalToken(change: c => c["nbf"] = In(TimeSpan.FromMinutes(5))))),
        ["wrong_iss"] = new("invalid_request", "subject_token.untrusted_issuer", Subject(x => x.PortalToken(change: c => c["iss"] = "https://evil.example"))),
        ["issuer_key_mismatch"] = new("invalid_request", "subject_token.unknown_key", Subject(x => x.Other.Sign("other-1", PortalClaims()))),
        ["wrong_aud"] = new("invalid_request", "subject_token.audience", Subject(x => x.PortalToken(change: c => c["aud"] = "https://someone-else.example"))),
        ["missing_subject_claim"] = new("invalid_request", "subject_token.subject", Subject(x => x.PortalToken(change: c => c.Remove("ext_user_id")))),
        ["trusted_issuer_this_client_may_not_use"] = new("invalid_request", "subject_token.issuer_not_allowed", Subject(x =>
            x.Other.Sign("other-1", PortalClaims(change: c => c["iss"] = OtherIssuer)))),
        ["malformed_jwt_segments"] = new("invalid_request", "subject_token.malformed", Subject(_ => "not.a.jwt")),
        ["two_segments"] = new("invalid_request", "subject_token.malformed", Subject(_ => "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0")),
        ["oversized_token"] = new("invalid_request", "", Subject(x => x.PortalToken(change: c => c["padding"] = new string('x', 20_000)))),
        ["signature_over_another_payload"] = new("invalid_request", "subject_token.signature", Subject(x =>
        {
            var parts = x.PortalToken().Split('.');
            return parts[0] + "." + Segment($$"""{"iss":"{{PortalIssuer}}","aud":"{{TesseraAudience}}","ext_user_id":"admin","exp":{{In(TimeSpan.FromMinutes(5))}}}""") + "." + parts[2];
        })),
        ["client_not_allowed_by_any_policy"] = new("unauthorized_client", "client", Subject(x => x.PortalToken(), client: Unpoliced)),
        ["audience_outside_policy"] = new("invalid_target", "audience", Subject(x => x.PortalToken(), extra: new() { ["audience"] = "https://billing.example/api" })),
        ["resource_outside_policy"] = new("invalid_target", "", Subject(x => x.PortalToken(), extra: new() { ["resource"] = "https://billing.example/api" })),
        ["scope_beyond_ceiling"] = new("invalid_scope", "scope", Subject(x => x.PortalToken(), extra: new() { ["scope"] = "write:orders doctor_access", ["resource"] = TestConfiguration.OrdersAudience })),
        ["impersonation_where_only_delegation_is_allowed"] = new("invalid_request", "impersonation", Subject(x => x.PortalToken(), client: DelegateOnly)),
        ["actor_not_permitted_by_may_act"] = new("invalid_request", "may_act", async x => await x.ExchangeAsync(
            x.PortalToken(change: c => c["may_act"] = new Dictionary<string, object> { ["sub"] = "billing-service" }), extra: new()
            {
                ["actor_token"] = await x.ServiceTokenAsync(),
                ["actor_token_type"] = AccessTokenType,
            })),
        ["actor_token_from_an_issuer_the_policy_does_not_name"] = new("invalid_request", "actor_token.issuer_not_allowed", async x => await x.ExchangeAsync(
            x.PortalToken(), client: DelegateOnly, extra: new() { ["actor_token"] = x.PortalToken("robot"), ["actor_token_type"] = JwtType })),
        ["id_token_where_the_policy_does_not_allow_it"] = new("invalid_request", "token_type", async x => await x.ExchangeAsync(
            x.PortalToken(), client: DelegateOnly, extra: new()
            {
                ["actor_token"] = await x.ServiceTokenAsync(DelegateOnly),
                ["actor_token_type"] = AccessTokenType,
                ["requested_token_type"] = "urn:ietf:params:oauth:token-type:id_token",
            })),
        ["unknown_subject_without_just_in_time_users"] = new("invalid_grant", "unknown_subject", async x => await x.ExchangeAsync(
            x.PortalToken("never-seen"), client: DelegateOnly, extra: new() { ["actor_token"] = await x.ServiceTokenAsync(DelegateOnly), ["actor_token_type"] = AccessTokenType })),
        ["tessera_token_named_as_foreign_jwt"] = new("invalid_request", "subject_token.token_type", async x => await x.ExchangeAsync(await x.ServiceTokenAsync(), JwtType)),
        ["refresh_token_type_is_not_exchanged"] = new("invalid_request", "", Subject(x => x.PortalToken(), type: "urn:ietf:params:oauth:token-type:refresh_token")),
        ["refresh_token_requested"] = new("invalid_request", "", Subject(x => x.PortalToken(), extra: new() { ["requested_token_type"] = "urn:ietf:params:oauth:token-type:refresh_token" })),
        ["no_subject_token"] = new("invalid_request", "", x => x.ExchangeAsync("", extra: new() { ["subject_token"] = null })),
        ["unknown_subject_token_type"] = new("invalid_request", "", Subject(x => x.PortalToken(), type: "urn:example:token-type:magic")),
    };

    public static TheoryData<string> Attacks() => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Hostile_exchange_is_refused_with_its_protocol_error_and_changes_nothing(string attack)
    {
        var row = Rows[attack];
        var users = await _x.Server.WithDbAsync(db => db.Users.CountAsync());

        var response = await row.Send(_x);

        Assert.True(response.Status == 400, $"{attack}: {response.Status} {response.Json}");
        Assert.Equal(row.Error, response.Error);
        Assert.False(response.Json.TryGetProperty("access_token", out _));
        var description = response["error_description"] ?? "";
        Assert.DoesNotContain("MII", description, StringComparison.Ordinal);
        Assert.DoesNotContain("BEGIN", description, StringComparison.Ordinal);
        Assert.Equal(users, await _x.Server.WithDbAsync(db => db.Users.CountAsync()));

        var audit = await AuditRowAsync();
        Assert.Equal(AuditEvent.Failure, audit.Outcome);
        if (row.Rule.Length > 0)
        {
            Assert.Contains($"\"rule\":\"{row.Rule}\"", audit.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Lifetime_beyond_the_cap_is_cut_to_the_policy_maximum()
    {
        // The gateway's own lifetime (an hour) is above the policy's 15 minutes, so only the cap can shorten it.
        await using var x = await ExchangeArrangement.StartAsync(options => options.Clients.Single(c => c.ClientId == Gateway).AccessTokenLifetime = TimeSpan.FromHours(1));

        var response = await x.ExchangeAsync(x.PortalToken(change: c => c["exp"] = In(TimeSpan.FromHours(8))));

        Assert.Equal(200, response.Status);
        Assert.Equal(TimeSpan.FromMinutes(15), response.AccessToken.ValidTo - response.AccessToken.IssuedAt);
        Assert.InRange(int.Parse(response["expires_in"]!, System.Globalization.CultureInfo.InvariantCulture), 895, 900);
    }

    [Fact]
    public async Task A_result_never_outlives_its_subject_token()
    {
        var expires = DateTimeOffset.UtcNow.AddSeconds(90);
        var response = await _x.ExchangeAsync(_x.PortalToken(change: c => c["exp"] = expires.ToUnixTimeSeconds()));

        Assert.Equal(200, response.Status);
        Assert.True(response.AccessToken.ValidTo <= expires.UtcDateTime, $"{response.AccessToken.ValidTo:O} > {expires:O}");
    }

    [Fact]
    public async Task A_revoked_Tessera_subject_token_is_refused()
    {
        var (_, tokens) = await _x.Host.SignInAsync(_x.Server.CreateBrowser());
        var accessToken = tokens["access_token"]!;
        Assert.Equal(200, (await _x.ExchangeAsync(accessToken, AccessTokenType)).Status);

        var revoked = await Oauth.RevokeAsync(_x.Http, TestConfiguration.PublicClient, null, accessToken);
        Assert.Equal(200, revoked.Status);
        var response = await _x.ExchangeAsync(accessToken, AccessTokenType);

        Assert.Equal("invalid_request", response.Error);
        Assert.Contains("\"rule\":\"token_invalid\"", (await AuditRowAsync()).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Tessera_refresh_token_offered_as_subject_is_refused_whatever_type_it_claims()
    {
        var (_, tokens) = await _x.Host.SignInAsync(_x.Server.CreateBrowser());
        var refreshToken = tokens["refresh_token"]!;

        foreach (var type in new[] { AccessTokenType, "urn:ietf:params:oauth:token-type:id_token", "urn:ietf:params:oauth:token-type:refresh_token", JwtType })
        {
            var response = await _x.ExchangeAsync(refreshToken, type);
            Assert.True(response.Error == "invalid_request", $"{type}: {response.Json}");
        }

        // The refresh token still works for its own client: the failed exchanges spent nothing.
        Assert.Equal(200, (await Oauth.RefreshAsync(_x.Http, TestConfiguration.PublicClient, null, refreshToken)).Status);
    }

    [Fact]
    public async Task A_deprovisioned_user_cannot_exchange()
    {
        // Twice, so that the second exchange found the user through a link it now remembers.
        var first = await _x.ExchangeAsync(_x.PortalToken("leaver"));
        Assert.Equal(200, first.Status);
        Assert.Equal(first.AccessToken.Subject, (await _x.ExchangeAsync(_x.PortalToken("leaver"))).AccessToken.Subject);
        var userId = Guid.Parse(first.AccessToken.Subject);
        await _x.Server.WithDbAsync(async db =>
        {
            var user = await db.Users.SingleAsync(u => u.Id == userId);
            user.DisabledAt = DateTime.UtcNow;
            return await db.SaveChangesAsync();
        });

        var response = await _x.ExchangeAsync(_x.PortalToken("leaver"));

        Assert.Equal("invalid_grant", response.Error);
        Assert.Contains("\"rule\":\"user_disabled\"", (await AuditRowAsync()).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Tessera_token_after_its_session_ended_is_refused()
    {
        var (_, tokens) = await _x.Host.SignInAsync(_x.Server.CreateBrowser());
        var accessToken = tokens["access_token"]!;
        var sid = new JsonWebToken(accessToken).GetPayloadValue<string>("sid");
        Assert.Equal(200, (await _x.ExchangeAsync(accessToken, AccessTokenType)).Status);
        await _x.Server.WithDbAsync(async db =>
        {
            var session = await db.Sessions.SingleAsync(s => s.Id == sid);
            session.EndedAt = DateTime.UtcNow;
            return await db.SaveChangesAsync();
        });

        var response = await _x.ExchangeAsync(accessToken, AccessTokenType);

        Assert.Equal("invalid_grant", response.Error);
        Assert.Contains("\"rule\":\"session_ended\"", (await AuditRowAsync()).Detail, StringComparison.Ordinal);
    }

    private async Task<AuditRecord> AuditRowAsync()
    {
        return (await _x.Server.AuditAsync()).Last(r => r.Event.StartsWith("token.exchange", StringComparison.Ordinal));
    }
}
