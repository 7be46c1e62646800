using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// A foreign token issuer (a partner's STS) on loopback: real RSA keys, a JWKS endpoint that counts its requests and
/// can be told what Cache-Control to send or to fail, and a signer for subject tokens.
/// </summary>
public sealed class ForeignIssuer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, RSA> _keys = [];
    private int _requests;
    private int _discoveryRequests;

    private ForeignIssuer(WebApplication app) => _app = app;

    /// <summary>The kids published in the JWKS, in order.</summary>
    public List<string> Published { get; } = [];
    public string? CacheControl { get; set; }

    /// <summary>Raw JSON of extra keys to publish after the real ones.</summary>
    public string? Extra { get; set; }
    public bool Down { get; set; }
    public int Requests => _requests;
    public int DiscoveryRequests => _discoveryRequests;
    public Uri JwksUri { get; private set; } = null!;

    /// <summary>Its loopback address, which is also the issuer its discovery document names.</summary>
    public string BaseUrl { get; private set; } = "";

    public static async Task<ForeignIssuer> StartAsync(params string[] kids)
    {
        ForeignIssuer issuer = null!;
        var (_, baseUrl) = await LoopbackServer.StartAsync(app =>
        {
            issuer = new ForeignIssuer(app);
            app.MapGet("/jwks", issuer.Jwks);
            app.MapGet("/.well-known/openid-configuration", () =>
            {
                Interlocked.Increment(ref issuer._discoveryRequests);
                return Results.Json(new Dictionary<string, string> { ["issuer"] = issuer.BaseUrl, ["jwks_uri"] = issuer.JwksUri.AbsoluteUri });
            });
        });
        foreach (var kid in kids)
        {
            issuer.Publish(kid);
        }

        issuer.BaseUrl = baseUrl;
        issuer.JwksUri = new Uri(baseUrl + "/jwks");
        return issuer;
    }

    /// <summary>Creates the key if new and publishes it.</summary>
    public void Publish(string kid)
    {
        lock (_keys)
        {
            if (!_keys.ContainsKey(kid))
            {
                _keys[kid] = RSA.Create(2048);
            }

            if (!Published.Contains(kid))
            {
                Published.Add(kid);
            }
        }
    }

    public RsaSecurityKey Key(string kid)
    {
        Publish(kid);
        return new RsaSecurityKey(_keys[kid]) { KeyId = kid };
    }

    /// <summary>A JWT signed RS256 with <paramref name="kid"/>; <paramref name="header"/> adds header parameters.</summary>
    public string Sign(string kid, Dictionary<string, object> claims, Dictionary<string, object>? header = null, string algorithm = SecurityAlgorithms.RsaSha256) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = new SigningCredentials(Key(kid), algorithm),
            AdditionalHeaderClaims = header,
        });

    private IResult Jwks(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        if (Down)
        {
            return Results.StatusCode(503);
        }

        if (CacheControl is { } cacheControl)
        {
            http.Response.Headers.CacheControl = cacheControl;
        }

        List<string> keys;
        lock (_keys)
        {
            keys = Published.Select(kid =>
            {
                var parameters = _keys[kid].ExportParameters(false);
                return $$"""{ "kty": "RSA", "kid": "{{kid}}", "use": "sig", "alg": "RS256", "n": "{{Base64UrlEncoder.Encode(parameters.Modulus!)}}", "e": "{{Base64UrlEncoder.Encode(parameters.Exponent!)}}" }""";
            }).ToList();
        }

        if (Extra is not null)
        {
            keys.Add(Extra);
        }

        return Results.Text($$"""{ "keys": [ {{string.Join(", ", keys)}} ] }""", "application/json");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }
    }
}
