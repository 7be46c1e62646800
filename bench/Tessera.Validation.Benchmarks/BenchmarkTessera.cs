using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation.Benchmarks;

/// <summary>
/// Tessera without HTTP: one signing key (ES256 P-256 or RS256 2048-bit) served through a
/// <see cref="StaticConfigurationManager{T}"/>, the validator built by the library's one call, and access tokens
/// shaped like Tessera's (at+jwt, issuer with trailing slash, sub, sid, client_id, scope, jti, org).
/// </summary>
public sealed class BenchmarkTessera : IDisposable
{
    public const string Authority = "https://tessera.bench";
    public const string Audience = "https://orders.internal";

    private readonly SecurityKey _privateKey;
    private readonly SigningCredentials _credentials;
    private readonly OpenIdConnectConfiguration _configuration = new() { Issuer = Authority };
    private readonly IDisposable _algorithm;
    private ServiceProvider _services = null!;

    public BenchmarkTessera(string algorithm)
    {
        SecurityKey publicKey;
        if (algorithm == "ES256")
        {
            var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            _algorithm = ec;
            _privateKey = new ECDsaSecurityKey(ec) { KeyId = "bench-es256" };
            publicKey = new ECDsaSecurityKey(ECDsa.Create(ec.ExportParameters(false))) { KeyId = "bench-es256" };
            _credentials = new SigningCredentials(_privateKey, SecurityAlgorithms.EcdsaSha256);
        }
        else
        {
            var rsa = RSA.Create(2048);
            _algorithm = rsa;
            _privateKey = new RsaSecurityKey(rsa) { KeyId = "bench-rs256" };
            publicKey = new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = "bench-rs256" };
            _credentials = new SigningCredentials(_privateKey, SecurityAlgorithms.RsaSha256);
        }

        _configuration.SigningKeys.Add(JsonWebKeyConverter.ConvertFromSecurityKey(publicKey));
        Reset();
    }

    public TesseraTokenValidator Validator { get; private set; } = null!;

    /// <summary>A new validator over the same key: empty cache, nothing seen.</summary>
    public void Reset()
    {
        _services?.Dispose();
        _services = new ServiceCollection()
            .AddTesseraValidation(options =>
            {
                options.Authority = Authority;
                options.Audience = Audience;
                options.RecheckAfter = Timeout.InfiniteTimeSpan;
                options.MaxCachedTokens = 100_000;
                options.ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(_configuration);
            })
            .BuildServiceProvider();
        Validator = _services.GetRequiredService<TesseraTokenValidator>();
    }

    public string NewToken(int user)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "at+jwt",
            Issuer = Authority + "/",
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddDays(1),
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = Guid.NewGuid().ToString(),
                ["sid"] = $"sid-{user}",
                ["client_id"] = "pos-terminal",
                ["scope"] = "openid read:orders write:orders",
                ["jti"] = Guid.NewGuid().ToString("N"),
                ["org"] = "st-marys",
            },
        });
    }

    /// <summary>Refuses to measure a failure path.</summary>
    public void MustValidate(string token)
    {
        var result = Validator.ValidateAsync(token).AsTask().GetAwaiter().GetResult();
        if (!result.IsValid)
        {
            throw new InvalidOperationException($"The benchmark token does not validate: {result.Failure} {result.Description}");
        }
    }

    public void Dispose()
    {
        _services.Dispose();
        _algorithm.Dispose();
    }
}
