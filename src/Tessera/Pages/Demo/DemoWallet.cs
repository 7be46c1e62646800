using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials;
using Tessera.Credentials.SdJwt;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

/// <summary>A credential the demo wallet holds, read for display: what is in the clear and what each disclosure says.</summary>
public sealed record HeldCredential(string Credential, HeldSdJwt Held);

/// <summary>
/// DEVELOPMENT ONLY. A web wallet for <c>tessera demo</c>: it asks Tessera for the age credential over real HTTP,
/// exactly as an external OpenID4VCI wallet does (authorization code with <c>credential:age</c> and PKCE, the nonce
/// endpoint, a JWT proof signed with a holder key of its own, the credential endpoint), and keeps the credential and
/// its key in a cookie protected by ASP.NET Core Data Protection. It presents only what a verifier asks for.
/// </summary>
public sealed class DemoWallet(TesseraIssuer issuer, IDataProtectionProvider protection, IHttpClientFactory httpClients, TimeProvider time)
{
    public const string BasePath = "/demo/wallet";
    private const string PendingCookie = "tessera.demo.wallet.pending";
    private const string HeldCookie = "tessera.demo.wallet";
    private static readonly JsonWebTokenHandler Tokens = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly IDataProtector _protector = protection.CreateProtector("Tessera.Demo.Wallet");

    public string CallbackUri => issuer.Url(BasePath + "/callback");

    /// <summary>The authorization request for the age credential's scope (OpenID4VCI 1.0 §5.1.2), with PKCE.</summary>
    public string Begin(HttpContext http)
    {
        var pending = new Pending(Random(), Random());
        Write(http, PendingCookie, JsonSerializer.Serialize(pending));
        return QueryHelpers.AddQueryString(issuer.Url("/authorize"), new Dictionary<string, string?>
        {
            ["client_id"] = DemoConfiguration.WalletClientId,
            ["response_type"] = "code",
            ["redirect_uri"] = CallbackUri,
            ["scope"] = "openid credential:" + DemoConfiguration.AgeCredentialId,
            ["state"] = pending.State,
            ["nonce"] = Random(),
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(pending.Verifier))),
            ["code_challenge_method"] = "S256",
        });
    }

    /// <summary>The callback: code for an access token, then a fresh nonce, a proof with a new holder key, and the credential.</summary>
    public async Task<string?> CompleteAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var query = http.Request.Query;
        var pending = Read<Pending>(http, PendingCookie);
        http.Response.Cookies.Delete(PendingCookie, new CookieOptions { Path = BasePath });
        if (!string.IsNullOrEmpty(query["error"]))
        {
            return $"{query["error"]}: {query["error_description"]}";
        }

        if (pending is null || pending.State != query["state"])
        {
            return "state mismatch: start again from the wallet page";
        }

        try
        {
            return await IssueAsync(http, query["code"].ToString(), pending, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or System.Text.Json.JsonException
            || exception is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The issuer unreachable or answering garbage is a message on the wallet's page, not a server error.
            return "Tessera could not be reached: " + exception.Message;
        }
    }

    private async Task<string?> IssueAsync(HttpContext http, string code, Pending pending, CancellationToken cancellationToken)
    {
        var client = httpClients.CreateClient();
        using var tokenResponse = await client.PostAsync(issuer.Url("/token"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = CallbackUri,
            ["client_id"] = DemoConfiguration.WalletClientId,
            ["code_verifier"] = pending.Verifier,
        }), cancellationToken);
        var tokens = JsonNode.Parse(await tokenResponse.Content.ReadAsStringAsync(cancellationToken));
        if (!tokenResponse.IsSuccessStatusCode || tokens?["access_token"]?.GetValue<string>() is not { } accessToken)
        {
            return "token endpoint: " + tokens?.ToJsonString();
        }

        using var nonceResponse = await client.PostAsync(issuer.Url(CredentialEndpoints.NoncePath), null, cancellationToken);
        var nonce = JsonNode.Parse(await nonceResponse.Content.ReadAsStringAsync(cancellationToken))?["c_nonce"]?.GetValue<string>();
        if (!nonceResponse.IsSuccessStatusCode || nonce is null)
        {
            return "nonce endpoint answered " + (int)nonceResponse.StatusCode;
        }

        using var holderKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new JsonObject
        {
            ["credential_configuration_id"] = DemoConfiguration.AgeCredentialId,
            ["proofs"] = new JsonObject { ["jwt"] = new JsonArray(Proof(holderKey, nonce)) },
        };
        using var message = new HttpRequestMessage(HttpMethod.Post, issuer.Url(CredentialEndpoints.CredentialPath))
        {
            Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var credentialResponse = await client.SendAsync(message, cancellationToken);
        var body = JsonNode.Parse(await credentialResponse.Content.ReadAsStringAsync(cancellationToken));
        if (!credentialResponse.IsSuccessStatusCode || body?["credentials"]?[0]?["credential"]?.GetValue<string>() is not { } credential)
        {
            return "credential endpoint: " + body?.ToJsonString();
        }

        Write(http, HeldCookie, JsonSerializer.Serialize(new Stored(credential, Convert.ToBase64String(holderKey.ExportPkcs8PrivateKey()))), TimeSpan.FromDays(30));
        return null;
    }

    /// <summary>The credential this browser's wallet holds, if any.</summary>
    public HeldCredential? Held(HttpContext http)
    {
        var stored = Read<Stored>(http, HeldCookie);
        var held = stored is null ? null : SdJwtHolder.Read(stored.Credential);
        return held is { Succeeded: true } ? new HeldCredential(stored!.Credential, held.Value!) : null;
    }

    public void Forget(HttpContext http) => http.Response.Cookies.Delete(HeldCookie, new CookieOptions { Path = BasePath });

    /// <summary>
    /// A presentation of the held credential with only the disclosures at <paramref name="paths"/> (and the parents
    /// they need), bound by a KB-JWT to the verifier's <paramref name="audience"/> and <paramref name="nonce"/>.
    /// </summary>
    public string? Present(HttpContext http, IEnumerable<Disclosure> disclosures, HeldSdJwt held, string audience, string nonce)
    {
        var stored = Read<Stored>(http, HeldCookie);
        if (stored is null)
        {
            return null;
        }

        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(stored.Key), out _);
        return new SdJwtHolder(time).Present(held, disclosures, new KeyBindingRequest(audience, nonce, new SigningCredentials(Uncached(key), SecurityAlgorithms.EcdsaSha256)));
    }

    /// <summary>OpenID4VCI 1.0 Appendix F.1: <c>openid4vci-proof+jwt</c>, the holder's public key as <c>jwk</c>, <c>aud</c> the credential issuer.</summary>
    private string Proof(ECDsa holderKey, string nonce)
    {
        var publicKey = Uncached(holderKey);
        var jwk = JsonSerializer.Deserialize<Dictionary<string, object>>(PublicJwk.From(publicKey)!.ToJsonString())!;
        return Tokens.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object>
            {
                ["iss"] = DemoConfiguration.WalletClientId,
                ["aud"] = issuer.Name,
                ["iat"] = time.GetUtcNow().ToUnixTimeSeconds(),
                ["nonce"] = nonce,
            },
            AdditionalHeaderClaims = new Dictionary<string, object> { ["typ"] = ProofOfPossession.Type, ["jwk"] = jwk },
            SigningCredentials = new SigningCredentials(publicKey, SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>
    /// The key is disposed after each use, and IdentityModel caches signature providers by key thumbprint, so a cached
    /// provider would outlive its key; this wallet's keys sign once per request and need no cache.
    /// </summary>
    private static ECDsaSecurityKey Uncached(ECDsa key) => new(key) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };

    private void Write(HttpContext http, string name, string value, TimeSpan? lifetime = null) =>
        http.Response.Cookies.Append(name, _protector.Protect(value), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Path = BasePath,
            Secure = http.Request.IsHttps,
            MaxAge = lifetime,
        });

    private T? Read<T>(HttpContext http, string name) where T : class
    {
        try
        {
            var cookie = http.Request.Cookies[name];
            return cookie is null ? null : JsonSerializer.Deserialize<T>(_protector.Unprotect(cookie));
        }
        catch (Exception exception) when (exception is CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }

    private static string Random() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private sealed record Pending(string State, string Verifier);

    private sealed record Stored(string Credential, string Key);
}
