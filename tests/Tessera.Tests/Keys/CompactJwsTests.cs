using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Keys;

namespace Tessera.Tests.Keys;

/// <summary><see cref="CompactJws"/> against the handler it stands in for, token for token.</summary>
public sealed class CompactJwsTests
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };
    private static readonly DateTime IssuedAt = new(2026, 12, 7, 10, 0, 0, 123, DateTimeKind.Utc);
    private static readonly DateTime Expires = IssuedAt.AddMinutes(10).AddTicks(9_999_999);

    public static TheoryData<string> Claims() => ["service", "two audiences", "escaping", "none"];

    private static Dictionary<string, object> ClaimsOf(string name) => name switch
    {
        "service" => new()
        {
            ["aud"] = "https://orders.internal",
            ["scope"] = "write:orders read:orders",
            ["jti"] = Guid.NewGuid().ToString(),
            ["sub"] = "bench-client",
            ["azp"] = "bench-client",
            ["client_id"] = "bench-client",
        },
        "two audiences" => new() { ["aud"] = new[] { "https://a.internal", "https://b.internal/ü" }, ["scope"] = "" },
        "escaping" => new()
        {
            ["name"] = "Zoë <b>&'+` \"quoted\" \\ back/slash \n\t\u0001 \u4e2d \ud83d\ude00 \u2028",
            ["e\u00e9<k>"] = "v",
            ["groups"] = new[] { "a\"b", "", "<script>" },
        },
        _ => [],
    };

    private static SigningCredentials Es256() => new(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "es-key-1" }, SecurityAlgorithms.EcdsaSha256);

    private static SigningCredentials Rs256(int bits = 3072) => new(new RsaSecurityKey(RSA.Create(bits)) { KeyId = "rs-key-\"1\"" }, SecurityAlgorithms.RsaSha256);

    private static string ByHandler(SigningCredentials credentials, Dictionary<string, object> claims) => Handler.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "https://sts.example/tenant/",
        IssuedAt = IssuedAt,
        Expires = Expires,
        TokenType = "at+jwt",
        Claims = claims,
        SigningCredentials = credentials,
    });

    private static string? Ours(SigningCredentials credentials, Dictionary<string, object> claims) =>
        CompactJws.TryCreate(credentials, "at+jwt", "https://sts.example/tenant/", IssuedAt, Expires, claims);

    [Theory]
    [MemberData(nameof(Claims))]
    public void An_RS256_token_is_the_handlers_byte_for_byte(string name)
    {
        var credentials = Rs256();
        var claims = ClaimsOf(name);
        Assert.Equal(ByHandler(credentials, claims), Ours(credentials, claims)); // PKCS #1 v1.5 signatures are deterministic
    }

    [Theory]
    [MemberData(nameof(Claims))]
    public async Task An_ES256_token_has_the_handlers_header_and_payload_and_a_signature_the_handler_accepts(string name)
    {
        var credentials = Es256();
        var claims = ClaimsOf(name);
        var ours = Ours(credentials, claims)!;
        var theirs = ByHandler(credentials, claims);
        Assert.Equal(theirs[..theirs.LastIndexOf('.')], ours[..ours.LastIndexOf('.')]);
        Assert.Equal(86, ours.Length - ours.LastIndexOf('.') - 1); // 64 bytes, r‖s

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(ours, new TokenValidationParameters
        {
            IssuerSigningKey = credentials.Key,
            ValidIssuer = "https://sts.example/tenant/",
            ValidateAudience = false,
            ValidateLifetime = false,
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        });
        Assert.True(result.IsValid, result.Exception?.Message);

        // A token whose payload was changed after signing is refused.
        var parts = ours.Split('.');
        var forged = $"{parts[0]}.{Base64UrlEncoder.Encode(Base64UrlEncoder.DecodeBytes(parts[1]).Select((b, i) => i == 10 ? (byte)(b ^ 1) : b).ToArray())}.{parts[2]}";
        Assert.False((await new JsonWebTokenHandler().ValidateTokenAsync(forged, new TokenValidationParameters
        {
            IssuerSigningKey = credentials.Key,
            ValidIssuer = "https://sts.example/tenant/",
            ValidateAudience = false,
            ValidateLifetime = false,
        })).IsValid);
    }

    [Fact]
    public void What_it_does_not_write_is_left_to_the_handler()
    {
        Assert.Null(Ours(new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256), ClaimsOf("service")));
        Assert.Null(Ours(new SigningCredentials(Es256().Key, SecurityAlgorithms.EcdsaSha384), ClaimsOf("service")));
        Assert.Null(Ours(new SigningCredentials(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP384)), SecurityAlgorithms.EcdsaSha256), ClaimsOf("service")));
        Assert.Null(Ours(new SigningCredentials(Rs256().Key, SecurityAlgorithms.RsaSsaPssSha256), ClaimsOf("service")));
        Assert.Null(Ours(Rs256(1024), ClaimsOf("service")));
        Assert.Null(Ours(Es256(), new() { ["n"] = 5 }));
        Assert.Null(Ours(Es256(), new() { ["iss"] = "https://elsewhere.example/" }));
        Assert.Null(Ours(Es256(), new() { ["exp"] = "1" }));
    }
}
