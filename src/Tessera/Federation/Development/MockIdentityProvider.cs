using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;

namespace Tessera.Federation.Development;

/// <summary>
/// DEVELOPMENT ONLY. A minimal OpenID Connect provider inside the demo process that lets anyone sign in as one
/// of a few sample people. It exists so <c>tessera demo</c> shows a real brokered sign-in without an external
/// IdP; <c>tessera serve</c> refuses to start with it enabled.
/// </summary>
public sealed class MockIdentityProvider
{
    public const string BasePath = "/_dev/idp";
    public const string ClientId = "tessera-demo";

    public static readonly IReadOnlyList<MockPerson> People =
    [
        new("alice", "Alice Adams", "alice@demo.example", ["Doctors", "Staff"], "doctor", "1990-04-12"),
        // Always 19 on the day the demo starts, so the age credential shows one person under 21.
        new("bob", "Bob Baker", "bob@demo.example", ["Staff"], "clerk", DateOnly.FromDateTime(DateTime.UtcNow).AddYears(-19).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
    ];

    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MockPerson> _accessTokens = new(StringComparer.Ordinal);
    private readonly RsaSecurityKey _key;
    private readonly TesseraIssuer _tessera;
    private readonly TimeProvider _time;

    public MockIdentityProvider(TesseraIssuer tessera, TimeProvider time)
    {
        _tessera = tessera;
        _time = time;
        _key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(8)) };
    }

    public string Issuer => _tessera.Url(BasePath);

    /// <summary>The secret Tessera's demo connection uses; fixed per process.</summary>
    public static string ClientSecret { get; } = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public IResult Discovery() => Results.Json(new Dictionary<string, object>
    {
        ["issuer"] = Issuer,
        ["authorization_endpoint"] = Issuer + "/authorize",
        ["token_endpoint"] = Issuer + "/token",
        ["userinfo_endpoint"] = Issuer + "/userinfo",
        ["jwks_uri"] = Issuer + "/jwks",
        ["response_types_supported"] = new[] { "code" },
        ["subject_types_supported"] = new[] { "public" },
        ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        ["code_challenge_methods_supported"] = new[] { "S256" },
        ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_basic", "client_secret_post" },
    });

    public IResult Jwks()
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_key.Rsa.ExportParameters(false)) { KeyId = _key.KeyId });
        return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
    }

    public IResult AuthorizePage(HttpRequest request)
    {
        var query = request.Query;
        if (query["client_id"] != ClientId || string.IsNullOrEmpty(query["redirect_uri"]) || query["code_challenge_method"] != "S256")
        {
            return Results.BadRequest("Unknown client, missing redirect_uri or missing PKCE.");
        }

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Demo identity provider</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto}.warn{background:#fff4e5;border-left:4px solid #b26a00;padding:.8rem}button{display:block;margin:.6rem 0;padding:.6rem 1rem;font-size:1rem}</style></head><body>")
            .Append("<h1>Demo identity provider</h1><p class=\"warn\"><strong>Development only.</strong> This stand-in for an organization's identity provider lets anyone sign in as a sample person. It never runs under <code>tessera serve</code>.</p>")
            .Append("<form method=\"post\" action=\"").Append(WebUtility.HtmlEncode(BasePath + "/authorize")).Append("\">");
        foreach (var (name, value) in query)
        {
            html.Append("<input type=\"hidden\" name=\"").Append(WebUtility.HtmlEncode(name)).Append("\" value=\"").Append(WebUtility.HtmlEncode(value.ToString())).Append("\">");
        }

        foreach (var person in People)
        {
            html.Append("<button type=\"submit\" name=\"person\" value=\"").Append(person.Id).Append("\">Sign in as ")
                .Append(WebUtility.HtmlEncode(person.Name)).Append(" (").Append(WebUtility.HtmlEncode(string.Join(", ", person.Groups))).Append("; born ")
                .Append(WebUtility.HtmlEncode(person.BirthDate)).Append(")</button>");
        }

        html.Append("</form></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    public async Task<IResult> Authorize(HttpRequest request)
    {
        if (!request.HasFormContentType)
        {
            return Results.BadRequest("Invalid sign-in.");
        }

        var form = await request.ReadFormAsync();
        var person = People.FirstOrDefault(p => p.Id == form["person"]);
        var redirect = form["redirect_uri"].ToString();
        var expectedCallback = _tessera.Url("/oidc/");
        if (person is null || form["client_id"] != ClientId || !redirect.StartsWith(expectedCallback, StringComparison.Ordinal))
        {
            return Results.BadRequest("Invalid sign-in.");
        }

        var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        _codes[code] = new IssuedCode(person, redirect, form["nonce"].ToString(), form["code_challenge"].ToString(), _time.GetUtcNow().AddMinutes(1));
        return Results.Redirect(QueryHelpers.AddQueryString(redirect, new Dictionary<string, string?>
        {
            ["code"] = code,
            ["state"] = form["state"].ToString(),
            ["iss"] = Issuer,
        }));
    }

    public async Task<IResult> Token(HttpRequest request)
    {
        if (!request.HasFormContentType)
        {
            return Results.Json(new { error = "invalid_request" }, statusCode: 400);
        }

        var form = await request.ReadFormAsync();
        var (clientId, secret) = ClientCredentials(request, form);
        if (clientId != ClientId || secret is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(ClientSecret)))
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: 401);
        }

        if (form["grant_type"] != "authorization_code" || !_codes.TryRemove(form["code"].ToString(), out var issued)
            || issued.ExpiresAt < _time.GetUtcNow() || issued.RedirectUri != form["redirect_uri"]
            || Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != issued.CodeChallenge)
        {
            return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = issued.Person.Id,
            ["nonce"] = issued.Nonce,
            ["email"] = issued.Person.Email,
            ["email_verified"] = true,
            ["name"] = issued.Person.Name,
            ["groups"] = issued.Person.Groups,
            ["Role"] = issued.Person.Role,
            ["birthdate"] = issued.Person.BirthDate, // OpenID Connect Core §5.1: YYYY-MM-DD; the age credential reads it
        };
        var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = ClientId,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            Claims = claims,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
        var accessToken = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        _accessTokens[accessToken] = issued.Person;
        return Results.Json(new { access_token = accessToken, token_type = "Bearer", expires_in = 300, id_token = idToken });
    }

    public IResult UserInfo(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || !_accessTokens.TryGetValue(header["Bearer ".Length..], out var person))
        {
            return Results.Json(new { error = "invalid_token" }, statusCode: 401);
        }

        return Results.Json(new { sub = person.Id, email = person.Email, email_verified = true, name = person.Name, groups = person.Groups, birthdate = person.BirthDate });
    }

    private static (string? ClientId, string? Secret) ClientCredentials(HttpRequest request, IFormCollection form)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var encoded = header["Basic ".Length..];
            var buffer = new byte[encoded.Length];
            if (!Convert.TryFromBase64String(encoded, buffer, out var written))
            {
                return (null, null);
            }

            var decoded = Encoding.UTF8.GetString(buffer, 0, written);
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? (null, null) : (Uri.UnescapeDataString(decoded[..colon]), Uri.UnescapeDataString(decoded[(colon + 1)..]));
        }

        return (form["client_id"], form["client_secret"]);
    }

    private sealed record IssuedCode(MockPerson Person, string RedirectUri, string Nonce, string CodeChallenge, DateTimeOffset ExpiresAt);
}

public sealed record MockPerson(string Id, string Name, string Email, string[] Groups, string Role, string BirthDate);

public static class MockIdentityProviderEndpoints
{
    public static void MapMockIdentityProvider(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(MockIdentityProvider.BasePath).DisableAntiforgery();
        group.MapGet("/.well-known/openid-configuration", (MockIdentityProvider idp) => idp.Discovery());
        group.MapGet("/jwks", (MockIdentityProvider idp) => idp.Jwks());
        group.MapGet("/authorize", (MockIdentityProvider idp, HttpRequest request) => idp.AuthorizePage(request));
        group.MapPost("/authorize", (MockIdentityProvider idp, HttpRequest request) => idp.Authorize(request));
        group.MapPost("/token", (MockIdentityProvider idp, HttpRequest request) => idp.Token(request));
        group.MapGet("/userinfo", (MockIdentityProvider idp, HttpRequest request) => idp.UserInfo(request));
    }
}
