// The ceiling of a client_credentials grant on this machine: an ASP.NET Core endpoint that does only what the grant
// must, and nothing Tessera adds (no OpenIddict pipeline, no audit row, no anomaly rules, no storage). It parses the
// form, checks HTTP Basic credentials against a SHA-256 hash of the client's secret held in memory (as Tessera keeps
// the hash of a secret it generated), signs the same RFC 9068 access token with JsonWebTokenHandler (ES256), and
// writes the JSON answer. Discovery and JWKS are served so bench/check-token.mjs checks its token like the others'.
//
//   BENCH_SECRET=... dotnet Tessera.Ceiling.dll --urls http://127.0.0.1:5092
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

const string ClientId = "bench-client";
const string Scope = "write:orders";
const string Audience = "https://orders.internal";
var lifetime = TimeSpan.FromMinutes(10);

var secret = Environment.GetEnvironmentVariable("BENCH_SECRET") ?? throw new InvalidOperationException("BENCH_SECRET is not set");
var secretHash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
var key = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "ceiling-es256" };
var credentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256);
var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
var issuer = "";
app.Lifetime.ApplicationStarted.Register(() => issuer = app.Urls.First().TrimEnd('/'));

app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
{
    ["issuer"] = issuer,
    ["token_endpoint"] = issuer + "/token",
    ["jwks_uri"] = issuer + "/jwks",
}));
app.MapGet("/jwks", () =>
{
    var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(key);
    return Results.Json(new { keys = new[] { new { kty = jwk.Kty, crv = jwk.Crv, x = jwk.X, y = jwk.Y, kid = key.KeyId, alg = "ES256", use = "sig" } } });
});
app.MapGet("/healthz", () => Results.Text("ok"));

app.MapPost("/token", async (HttpContext http) =>
{
    if (!http.Request.HasFormContentType)
    {
        return Error(400, "invalid_request");
    }

    var form = await http.Request.ReadFormAsync(http.RequestAborted);
    if (form["grant_type"] != "client_credentials")
    {
        return Error(400, "unsupported_grant_type");
    }

    if (!Authenticated(http.Request.Headers.Authorization.ToString()))
    {
        return Error(401, "invalid_client");
    }

    var scope = form["scope"].ToString();
    if (scope.Length > 0 && scope != Scope)
    {
        return Error(400, "invalid_scope");
    }

    var now = DateTime.UtcNow;
    var token = handler.CreateToken(new SecurityTokenDescriptor
    {
        TokenType = "at+jwt",
        Issuer = issuer,
        Audience = Audience,
        IssuedAt = now,
        NotBefore = now,
        Expires = now + lifetime,
        SigningCredentials = credentials,
        Subject = new ClaimsIdentity(
        [
            new Claim("sub", ClientId),
            new Claim("client_id", ClientId),
            new Claim("scope", Scope),
            new Claim("jti", Convert.ToHexString(RandomNumberGenerator.GetBytes(16))),
        ]),
    });
    http.Response.Headers.CacheControl = "no-store";
    return Results.Json(new Dictionary<string, object>
    {
        ["access_token"] = token,
        ["token_type"] = "Bearer",
        ["expires_in"] = (int)lifetime.TotalSeconds,
        ["scope"] = Scope,
    });
});

app.Run();

bool Authenticated(string authorization)
{
    if (!authorization.StartsWith("Basic ", StringComparison.Ordinal))
    {
        return false;
    }

    string decoded;
    try
    {
        decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..]));
    }
    catch (FormatException)
    {
        return false;
    }

    var colon = decoded.IndexOf(':', StringComparison.Ordinal);
    return colon > 0
        && Uri.UnescapeDataString(decoded[..colon]) == ClientId
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(decoded[(colon + 1)..]))), secretHash);
}

static IResult Error(int status, string error) => Results.Json(new { error }, statusCode: status);
