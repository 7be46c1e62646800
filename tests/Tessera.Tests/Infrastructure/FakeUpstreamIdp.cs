using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Tests.Infrastructure;

/// <summary>A person as the upstream IdP knows them.</summary>
public sealed record UpstreamPerson(string Subject, string Email, string Name, string[] Groups)
{
    public Dictionary<string, object> ExtraClaims { get; init; } = [];
}

/// <summary>What the fake IdP is about to put in an ID token, for tests that tamper with it.</summary>
public sealed class IdTokenPlan
{
    public required Dictionary<string, object> Header { get; init; }
    public required Dictionary<string, object> Payload { get; init; }
    public required RsaSecurityKey Key { get; init; }
}

/// <summary>
/// An OpenID Connect provider on a real loopback port inside the test process: discovery, JWKS, authorize
/// (approves at once as <see cref="Person"/>), token (with PKCE and client authentication), userinfo.
/// Tests steer it to misbehave: wrong claims, forged signatures, errors. Started with a host name, it is known by
/// that name over TLS instead (see <see cref="StartAsync"/>).
/// </summary>
public sealed class FakeUpstreamIdp : IAsyncDisposable
{
    public const string ClientId = "tessera";
    public const string ClientSecret = "upstream-client-secret-0123456789";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new();
    private readonly ConcurrentDictionary<string, IssuedCode> _accessTokens = new();
    private readonly List<RsaSecurityKey> _published = [];
    private int _keyCounter;

    private FakeUpstreamIdp(WebApplication app)
    {
        _app = app;
        SigningKey = NewKey();
        _published.Add(SigningKey);
    }

    public string Issuer { get; private set; } = "";

    /// <summary>Where the browser is sent to authorize: the issuer, or plain loopback HTTP when the IdP is known by a name.</summary>
    public string FrontChannel { get; private set; } = "";

    /// <summary>The self-signed certificate of the TLS listener, when the IdP is known by a name.</summary>
    public X509Certificate2? Certificate { get; private set; }

    public RsaSecurityKey SigningKey { get; private set; }

    public UpstreamPerson Person { get; set; } = new("u-1001", "alice@stmarys.example", "Alice Adams", ["Doctors"]);

    /// <summary>Last say over the ID token: receives the plan, returns the compact JWT (or anything).</summary>
    public Func<IdTokenPlan, string>? IdTokenWriter { get; set; }

    public Action<Dictionary<string, object>>? ClaimsEditor { get; set; }

    /// <summary>When set, the only redirect URIs /authorize accepts; any other gets an error page, as a real IdP shows one.</summary>
    public string[]? AllowedRedirectUris { get; set; }

    /// <summary>When set, /authorize answers with this OAuth error instead of a code.</summary>
    public string? AuthorizeError { get; set; }

    /// <summary>The error_description sent with <see cref="AuthorizeError"/>, if any.</summary>
    public string? AuthorizeErrorDescription { get; set; }

    /// <summary>The client secret the IdP holds for Tessera's client; another than <see cref="ClientSecret"/> is a secret rotated at the IdP.</summary>
    public string ExpectedClientSecret { get; set; } = ClientSecret;

    /// <summary>When set, /token answers with this OAuth error (400) instead of tokens.</summary>
    public (string Error, string? Description)? TokenError { get; set; }

    /// <summary>When set, discovery names this issuer instead of the IdP's own URL (a document copied from another tenant).</summary>
    public string? DiscoveryIssuer { get; set; }

    /// <summary>Scopes the IdP never grants, however they are asked for: without <c>email</c> it releases no email claims.</summary>
    public IReadOnlyCollection<string> WithheldScopes { get; set; } = [];

    /// <summary>When set, /authorize sends back this state instead of the one it received.</summary>
    public string? StateOverride { get; set; }

    public bool ServeUserInfo { get; set; } = true;

    /// <summary>The clock the IdP stamps tokens with; share the test host's fake clock to travel in time together.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Every request that reached the IdP, whatever its path.</summary>
    public int Requests;

    public int AuthorizeRequests;
    public int TokenRequests;
    public int JwksRequests;

    public IReadOnlyDictionary<string, string> LastAuthorizeRequest { get; private set; } = new Dictionary<string, string>();

    /// <summary>The last authorization code, access token and ID token the IdP issued: what must never show up in Tessera's telemetry or logs.</summary>
    public string? LastCode { get; private set; }

    public string? LastAccessToken { get; private set; }

    public string? LastIdToken { get; private set; }

    /// <param name="hostName">
    /// When set, the issuer is <c>https://{hostName}:{port}</c>: discovery, keys, token and userinfo answer over TLS
    /// with <see cref="Certificate"/>, and the test must make Tessera resolve the name and trust the certificate.
    /// The browser still authorizes over plain loopback HTTP (<see cref="FrontChannel"/>).
    /// </param>
    public static async Task<FakeUpstreamIdp> StartAsync(string? hostName = null)
    {
        FakeUpstreamIdp idp = null!;
        void Map(WebApplication app)
        {
            idp = new FakeUpstreamIdp(app);
            app.Use((context, next) =>
            {
                Interlocked.Increment(ref idp.Requests);
                return next(context);
            });
            app.MapGet("/.well-known/openid-configuration", idp.Discovery);
            app.MapGet("/jwks", idp.Jwks);
            app.MapGet("/authorize", idp.Authorize);
            app.MapPost("/token", idp.Token);
            app.MapGet("/userinfo", idp.UserInfo);
        }

        if (hostName is null)
        {
            var (_, baseUrl) = await LoopbackServer.StartAsync(Map);
            idp.Issuer = idp.FrontChannel = baseUrl;
            return idp;
        }

        var certificate = SelfSigned(hostName);
        var (_, frontChannel, tlsPort) = await LoopbackServer.StartWithTlsAsync(Map, certificate);
        idp.Issuer = $"https://{hostName}:{tlsPort}";
        idp.FrontChannel = frontChannel;
        idp.Certificate = certificate;
        return idp;
    }

    private static X509Certificate2 SelfSigned(string hostName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostName);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    /// <summary>Back to answering as a well-behaved IdP, for tests that share one and misconfigure it row by row.</summary>
    public void BehaveAgain()
    {
        IdTokenWriter = null;
        ClaimsEditor = null;
        AuthorizeError = null;
        AuthorizeErrorDescription = null;
        StateOverride = null;
        ServeUserInfo = true;
        ExpectedClientSecret = ClientSecret;
        TokenError = null;
        WithheldScopes = [];
        Clock = TimeProvider.System;
    }

    /// <summary>Signs with a new key from now on and publishes it; the old one stays published unless <paramref name="dropOld"/>.</summary>
    public RsaSecurityKey RotateKey(bool dropOld = true)
    {
        if (dropOld)
        {
            _published.Clear();
        }

        SigningKey = NewKey();
        _published.Add(SigningKey);
        return SigningKey;
    }

    public string Sign(Dictionary<string, object> header, Dictionary<string, object> payload, Func<byte[], byte[]> signer)
    {
        var head = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(header));
        var body = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(payload));
        var signature = signer(Encoding.ASCII.GetBytes(head + "." + body));
        return $"{head}.{body}.{Base64UrlEncoder.Encode(signature)}";
    }

    public static byte[] SignRs256(RsaSecurityKey key, byte[] data) =>
        key.Rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    private RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = "key-" + Interlocked.Increment(ref _keyCounter) };

    private IResult Discovery() => Results.Json(new Dictionary<string, object>
    {
        ["issuer"] = DiscoveryIssuer ?? Issuer,
        ["authorization_endpoint"] = FrontChannel + "/authorize",
        ["token_endpoint"] = Issuer + "/token",
        ["userinfo_endpoint"] = Issuer + "/userinfo",
        ["jwks_uri"] = Issuer + "/jwks",
        ["response_types_supported"] = new[] { "code" },
        ["subject_types_supported"] = new[] { "public" },
        ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
    });

    private IResult Jwks()
    {
        Interlocked.Increment(ref JwksRequests);
        var keys = _published.Select(k =>
        {
            var p = k.Rsa.ExportParameters(false);
            return new Dictionary<string, string>
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = k.KeyId,
                ["n"] = Base64UrlEncoder.Encode(p.Modulus),
                ["e"] = Base64UrlEncoder.Encode(p.Exponent),
            };
        }).ToList();
        return Results.Json(new { keys });
    }

    private IResult Authorize(HttpRequest request)
    {
        Interlocked.Increment(ref AuthorizeRequests);
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
        LastAuthorizeRequest = query;
        var redirect = query.GetValueOrDefault("redirect_uri") ?? "";
        var state = StateOverride ?? query.GetValueOrDefault("state");
        if (AuthorizeError is not null)
        {
            var error = new Dictionary<string, string?> { ["error"] = AuthorizeError, ["state"] = state };
            if (AuthorizeErrorDescription is not null)
            {
                error["error_description"] = AuthorizeErrorDescription;
            }

            return Results.Redirect(QueryHelpers.AddQueryString(redirect, error));
        }

        if (query.GetValueOrDefault("client_id") != ClientId || query.GetValueOrDefault("code_challenge_method") != "S256")
        {
            return Results.BadRequest("bad authorization request");
        }

        // RFC 6749 §4.1.2.1: a redirect URI the client did not register gets an error page here, never a redirect.
        if (AllowedRedirectUris is { } allowed && !allowed.Contains(redirect, StringComparer.Ordinal))
        {
            return Results.Content("<html><body><h1>Sign-in error</h1><p>invalid_request: The redirect_uri is not registered for this client.</p></body></html>", "text/html", statusCode: 400);
        }

        var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24));
        var granted = (query.GetValueOrDefault("scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Except(WithheldScopes).ToHashSet(StringComparer.Ordinal);
        LastCode = code;
        _codes[code] = new IssuedCode(Person, redirect, query.GetValueOrDefault("nonce"), query.GetValueOrDefault("code_challenge")!, granted);
        return Results.Redirect(QueryHelpers.AddQueryString(redirect, new Dictionary<string, string?> { ["code"] = code, ["state"] = state }));
    }

    private async Task<IResult> Token(HttpRequest request)
    {
        Interlocked.Increment(ref TokenRequests);
        var form = await request.ReadFormAsync();
        var header = request.Headers.Authorization.ToString();
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ExpectedClientSecret}"));
        if (header != expected)
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: 401);
        }

        if (!_codes.TryRemove(form["code"].ToString(), out var issued) || issued.RedirectUri != form["redirect_uri"]
            || Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != issued.CodeChallenge)
        {
            return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
        }

        if (TokenError is { } tokenError)
        {
            return Results.Json(new { error = tokenError.Error, error_description = tokenError.Description }, statusCode: 400);
        }

        var now = Clock.GetUtcNow().ToUnixTimeSeconds();
        var payload = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = issued.Person.Subject,
            ["aud"] = ClientId,
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 300,
            ["name"] = issued.Person.Name,
            ["groups"] = issued.Person.Groups,
        };
        if (issued.Scopes.Contains("email"))
        {
            payload["email"] = issued.Person.Email;
            payload["email_verified"] = true;
        }

        if (issued.Nonce is not null)
        {
            payload["nonce"] = issued.Nonce;
        }

        foreach (var (name, value) in issued.Person.ExtraClaims)
        {
            payload[name] = value;
        }

        ClaimsEditor?.Invoke(payload);
        var plan = new IdTokenPlan
        {
            Header = new Dictionary<string, object> { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = SigningKey.KeyId },
            Payload = payload,
            Key = SigningKey,
        };
        var idToken = IdTokenWriter?.Invoke(plan) ?? Sign(plan.Header, plan.Payload, data => SignRs256(plan.Key, data));
        var accessToken = "upstream-at-" + issued.Person.Subject + "." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        _accessTokens[accessToken] = issued;
        (LastAccessToken, LastIdToken) = (accessToken, idToken);
        return Results.Json(new { access_token = accessToken, token_type = "Bearer", expires_in = 300, id_token = idToken });
    }

    private IResult UserInfo(HttpRequest request)
    {
        if (!ServeUserInfo)
        {
            return Results.StatusCode(500);
        }

        var token = request.Headers.Authorization.ToString();
        var issued = token.StartsWith("Bearer ", StringComparison.Ordinal) && _accessTokens.TryGetValue(token["Bearer ".Length..], out var grant) ? grant : null;
        if (issued is null || issued.Person.Subject != Person.Subject)
        {
            return Results.Json(new { error = "invalid_token" }, statusCode: 401);
        }

        var claims = new Dictionary<string, object> { ["sub"] = Person.Subject, ["groups"] = Person.Groups };
        if (issued.Scopes.Contains("email"))
        {
            claims["email"] = Person.Email;
        }

        return Results.Json(claims);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private sealed record IssuedCode(UpstreamPerson Person, string RedirectUri, string? Nonce, string CodeChallenge, IReadOnlySet<string> Scopes);
}
