using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Tessera.Exchange;
using Tessera.Federation;
using Tessera.Telemetry;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Exchange;

/// <summary>
/// Hostile subject tokens, one row per attack on a foreign-token verifier, each expecting the rule that stops it.
/// Two trusted issuers run on loopback with their own keys: the partner portal (the one the token claims) and
/// another partner, whose perfectly valid key must not vouch for the first.
/// </summary>
public sealed class ForeignTokenValidatorTests : IAsyncLifetime
{
    private const string PortalIssuer = "https://portal.partner.example";
    private const string OtherIssuer = "https://other.partner.example";
    private const string Audience = "https://tessera.example";

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private ServiceProvider _services = null!;
    private ForeignIssuer _portal = null!;
    private ForeignIssuer _other = null!;
    private ForeignTokenValidator _validator = null!;
    private TrustedIssuer[] _trusted = [];

    public async Task InitializeAsync()
    {
        _portal = await ForeignIssuer.StartAsync("portal-1");
        _other = await ForeignIssuer.StartAsync("other-1");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddHttpClient(OidcMetadataCache.HttpClientName);
        services.AddSingleton<TimeProvider>(_time);
        services.AddTesseraInstruments();
        services.AddSingleton<IssuerKeyCache>();
        services.AddSingleton<IssuerDiscovery>();
        services.AddSingleton<ForeignTokenValidator>();
        _services = services.BuildServiceProvider();
        _validator = _services.GetRequiredService<ForeignTokenValidator>();
        _trusted =
        [
            new TrustedIssuer("partner-portal", PortalIssuer, _portal.JwksUri, ["RS256"], [Audience], "ext_user_id"),
            new TrustedIssuer("other-partner", OtherIssuer, _other.JwksUri, ["RS256"], [Audience], "sub"),
        ];
    }

    private Dictionary<string, object> Claims(Action<Dictionary<string, object>>? change = null)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = PortalIssuer,
            ["aud"] = Audience,
            ["ext_user_id"] = "ext-4711",
            ["sub"] = "portal-user",
            ["iat"] = now,
            ["nbf"] = now - 5,
            ["exp"] = now + 300,
        };
        change?.Invoke(claims);
        return claims;
    }

    private static string Segment(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));

    public static TheoryData<string> Attacks() => [.. AttackRows.Keys];

    private static readonly Dictionary<string, (string Rule, Func<ForeignTokenValidatorTests, string> Token)> AttackRows = new()
    {
        ["alg_none"] = ("algorithm", t => Segment("""{"alg":"none","typ":"JWT"}""") + "." + Segment($$"""{"iss":"{{PortalIssuer}}","aud":"{{Audience}}","ext_user_id":"admin","exp":{{t._time.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds()}}}""") + "."),
        ["hs256_keyed_with_the_issuers_public_key"] = ("algorithm", t =>
        {
            var publicKey = t._portal.Key("portal-1").Rsa.ExportRSAPublicKeyPem();
            var hmac = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(publicKey));
            return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Claims = t.Claims(),
                SigningCredentials = new SigningCredentials(hmac, SecurityAlgorithms.HmacSha256),
            });
        }
        ),
        ["algorithm_not_on_the_issuers_list"] = ("algorithm", t => t._portal.Sign("portal-1", t.Claims(), algorithm: SecurityAlgorithms.RsaSha384)),
        ["unknown_kid_that_stays_unknown"] = ("unknown_key", t =>
        {
            using var stranger = RSA.Create(2048);
            return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Claims = t.Claims(),
                SigningCredentials = new SigningCredentials(new RsaSecurityKey(stranger.ExportParameters(true)) { KeyId = "forged" }, SecurityAlgorithms.RsaSha256),
            });
        }
        ),
        ["jku_header_pointing_elsewhere"] = ("key_reference", t => t._portal.Sign("portal-1", t.Claims(), new() { ["jku"] = "https://evil.example/jwks" })),
        ["x5u_header_pointing_elsewhere"] = ("key_reference", t => t._portal.Sign("portal-1", t.Claims(), new() { ["x5u"] = "https://evil.example/cert.pem" })),
        ["embedded_jwk_header"] = ("key_reference", t => t._portal.Sign("portal-1", t.Claims(), new() { ["jwk"] = new Dictionary<string, object> { ["kty"] = "RSA", ["n"] = "AQAB", ["e"] = "AQAB" } })),
        ["embedded_x5c_header"] = ("key_reference", t => t._portal.Sign("portal-1", t.Claims(), new() { ["x5c"] = new[] { "MIIB" } })),
        ["crit_with_an_unknown_extension"] = ("critical_header", t => t._portal.Sign("portal-1", t.Claims(), new() { ["crit"] = new[] { "exp-v2" }, ["exp-v2"] = true })),
        ["expired"] = ("expired", t => t._portal.Sign("portal-1", t.Claims(c => c["exp"] = t._time.GetUtcNow().AddMinutes(-2).ToUnixTimeSeconds()))),
        ["no_expiry"] = ("expired", t => t._portal.Sign("portal-1", t.Claims(c => c.Remove("exp")))),
        ["nbf_in_the_future"] = ("not_yet_valid", t => t._portal.Sign("portal-1", t.Claims(c => c["nbf"] = t._time.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds()))),
        ["untrusted_issuer"] = ("untrusted_issuer", t => t._portal.Sign("portal-1", t.Claims(c => c["iss"] = "https://evil.example"))),
        ["issuer_key_mismatch"] = ("unknown_key", t => t._other.Sign("other-1", t.Claims())),
        ["wrong_audience"] = ("audience", t => t._portal.Sign("portal-1", t.Claims(c => c["aud"] = "https://someone-else.example"))),
        ["missing_subject_claim"] = ("subject", t => t._portal.Sign("portal-1", t.Claims(c => c.Remove("ext_user_id")))),
        ["signature_of_another_payload"] = ("signature", t =>
        {
            var parts = t._portal.Sign("portal-1", t.Claims()).Split('.');
            return parts[0] + "." + Segment($$"""{"iss":"{{PortalIssuer}}","aud":"{{Audience}}","ext_user_id":"admin","exp":{{t._time.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds()}}}""") + "." + parts[2];
        }
        ),
        ["malformed_segments"] = ("malformed", _ => "not.a.jwt"),
        ["two_segments"] = ("malformed", _ => "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0"),
        ["oversized_token"] = ("oversized", t => t._portal.Sign("portal-1", t.Claims(c => c["padding"] = new string('x', 20_000)))),
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Hostile_subject_token_is_refused_by_the_named_rule(string attack)
    {
        var (rule, token) = AttackRows[attack];

        var result = await _validator.ValidateAsync(token(this), _trusted, default);

        Assert.False(result.Succeeded, $"{attack} was accepted");
        Assert.Equal(rule, result.Rule);
        Assert.DoesNotContain("MII", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_token_yields_its_issuer_and_subject()
    {
        var result = await _validator.ValidateAsync(_portal.Sign("portal-1", Claims()), _trusted, default);

        Assert.True(result.Succeeded, result.Description);
        Assert.Equal("partner-portal", result.Issuer!.Id);
        Assert.Equal("ext-4711", result.Subject);
    }

    [Fact]
    public async Task A_key_rotation_at_the_issuer_keeps_exchanges_working_after_one_refresh()
    {
        Assert.True((await _validator.ValidateAsync(_portal.Sign("portal-1", Claims()), _trusted, default)).Succeeded);
        var before = _portal.Requests;

        _portal.Publish("portal-2");
        _time.Advance(TimeSpan.FromSeconds(31));
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => _validator.ValidateAsync(_portal.Sign("portal-2", Claims()), _trusted, default)));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Description));
        Assert.Equal(before + 1, _portal.Requests);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _portal.DisposeAsync();
        await _other.DisposeAsync();
    }

    [Fact]
    public async Task Without_a_configured_key_set_the_issuers_discovery_document_names_it_once_for_concurrent_callers()
    {
        var discovered = new TrustedIssuer("discovered", _other.BaseUrl, null, ["RS256"], [Audience], "sub");
        var token = _other.Sign("other-1", Claims(c => c["iss"] = _other.BaseUrl));

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _validator.ValidateAsync(token, [discovered], default)));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Description));
        Assert.Equal(1, _other.DiscoveryRequests);
        Assert.Equal(1, _other.Requests);
    }

    [Fact]
    public async Task An_issuer_whose_discovery_document_cannot_be_read_has_no_keys()
    {
        var impostor = new TrustedIssuer("impostor", _other.BaseUrl + "/tenant", null, ["RS256"], [Audience], "sub");
        var token = _other.Sign("other-1", Claims(c => c["iss"] = _other.BaseUrl + "/tenant"));

        var result = await _validator.ValidateAsync(token, [impostor], default);

        Assert.Equal("unknown_key", result.Rule);
        Assert.Equal(0, _other.Requests);
    }
}
