using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials;
using Tessera.Credentials.Dcql;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Vc;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Credentials;

/// <summary>
/// The verifier's parties for tests: the configuration (a presentation "over-21", a second credential issuer trusted by
/// its configured key), the app that asks and redeems, and what a wallet does with a request object.
/// </summary>
public static class TestVerifierApp
{
    public const string Presentation = "over-21";
    public const string DmvIssuer = "https://dmv.state.example";
    public const string DmvVct = "https://dmv.state.example/vct/age";

    /// <summary>The second issuer's signing key (its public half is configured as trusted).</summary>
    public static readonly ECDsaSecurityKey DmvKey = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "dmv-1" };

    public static void Configure(TesseraOptions options)
    {
        CredentialIssuingTests.Configure(options);
        var jwk = PublicJwk.From(DmvKey)!;
        jwk["kid"] = DmvKey.KeyId;
        options.TrustedCredentialIssuers.Add(new TrustedCredentialIssuerOptions
        {
            Id = "state-dmv",
            Issuer = DmvIssuer,
            Vcts = [DmvVct],
            Jwks = new JsonObject { ["keys"] = new JsonArray(jwk) }.ToJsonString(),
            RequireStatus = false,
        });
        options.Presentations.Add(new PresentationOptions
        {
            Id = Presentation,
            Query = $$"""
                {"credentials": [{"id": "age", "format": "dc+sd-jwt",
                  "meta": {"vct_values": ["{{CredentialIssuingTests.AgeVct}}", "{{DmvVct}}"]},
                  "claims": [{"path": ["age_equal_or_over", "21"], "values": [true]}]}]}
                """,
            Clients = [TestConfiguration.WebClient],
            Claims = new() { ["age_over_21"] = ["age_equal_or_over", "21"] },
        });
    }

    /// <summary>A credential of the second issuer for the wallet's key: ages disclosable one by one, no status.</summary>
    public static string DmvCredential(TestWallet wallet, string vct = DmvVct, TimeProvider? time = null, string issuer = DmvIssuer, SecurityKey? key = null,
        Tessera.Credentials.Status.StatusReference? status = null)
    {
        var issued = new SdJwtVcIssuer(time ?? TimeProvider.System).Issue(new SdJwtVcIssuance
        {
            Vct = vct,
            Issuer = issuer,
            Claims = new JsonObject { ["age_equal_or_over"] = new JsonObject { ["18"] = true, ["21"] = true }, ["given_name"] = "Alice" },
            Disclosable = [ClaimPath.Of("age_equal_or_over"), ClaimPath.Of("age_equal_or_over", "18"), ClaimPath.Of("age_equal_or_over", "21"), ClaimPath.Of("given_name")],
            Lifetime = TimeSpan.FromDays(30),
            HolderKey = new JsonWebKey(wallet.PublicJwk.ToJsonString()),
            Status = status,
        }, new SigningCredentials(key ?? DmvKey, SecurityAlgorithms.EcdsaSha256));
        Assert.True(issued.Succeeded, issued.Failure?.ToString());
        return issued.Value!.Serialized;
    }

    public static HttpRequestMessage Authenticated(string path, Dictionary<string, string> form, string clientId = TestConfiguration.WebClient, string? secret = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret ?? Secret(clientId)))));
        return request;
    }

    private static string Secret(string clientId) => clientId == TestConfiguration.WebClient ? TestConfiguration.WebSecret : TestConfiguration.ServiceSecret;

    public static async Task<(int Status, JsonObject Body)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : new JsonObject { ["text"] = text });
        }
    }

    /// <summary>The app asks for the presentation (same-device unless <paramref name="redirectUri"/> is null).</summary>
    public static async Task<JsonObject> CreateAsync(HttpClient http, string? redirectUri = TestConfiguration.WebRedirect)
    {
        var form = new Dictionary<string, string> { ["presentation"] = Presentation };
        if (redirectUri is not null)
        {
            form["redirect_uri"] = redirectUri;
        }

        var (status, body) = await SendAsync(http, Authenticated("presentations/requests", form));
        Assert.True(status == 201, body.ToJsonString());
        return body;
    }

    /// <summary>What the wallet reads from the link: the request object, fetched by reference, unsigned.</summary>
    public static async Task<JsonObject> RequestObjectAsync(HttpClient http, JsonObject created)
    {
        var link = new Uri(created["wallet_link"]!.GetValue<string>());
        Assert.Equal("openid4vp", link.Scheme);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Query);
        using var response = await http.GetAsync(query["request_uri"].ToString());
        Assert.Equal("application/oauth-authz-req+jwt", response.Content.Headers.ContentType!.MediaType);
        var jwt = await response.Content.ReadAsStringAsync();
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var header = JsonNode.Parse(Base64UrlEncoder.Decode(parts[0]))!;
        Assert.Equal(("none", "oauth-authz-req+jwt"), (header["alg"]!.GetValue<string>(), header["typ"]!.GetValue<string>()));
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        Assert.Equal(query["client_id"].ToString(), payload["client_id"]!.GetValue<string>());
        return payload;
    }

    /// <summary>The wallet's choice: the disclosures that answer the request's DCQL query, bound to its client_id and nonce.</summary>
    public static string Answer(TestWallet wallet, string credential, JsonObject requestObject)
    {
        var query = DcqlQuery.Parse(requestObject["dcql_query"]).Value!;
        var held = SdJwtHolder.Read(credential).Value!;
        var disclosures = DcqlEvaluator.SelectDisclosures(query.Credentials[0], held);
        Assert.True(disclosures.Succeeded, disclosures.Failure?.ToString());
        return new SdJwtHolder(TimeProvider.System).Present(held, disclosures.Value!, new KeyBindingRequest(requestObject["client_id"]!.GetValue<string>(),
            requestObject["nonce"]!.GetValue<string>(), new SigningCredentials(wallet.Key, SecurityAlgorithms.EcdsaSha256)));
    }

    public static string VpToken(params string[] presentations) => new JsonObject { ["age"] = new JsonArray([.. presentations.Select(p => JsonValue.Create(p))]) }.ToJsonString();

    /// <summary>The wallet's direct_post to the response URI.</summary>
    public static async Task<(int Status, JsonObject Body)> PostAsync(HttpClient http, JsonObject requestObject, string vpToken, string? state = null)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["vp_token"] = vpToken, ["state"] = state ?? requestObject["state"]!.GetValue<string>() });
        using var response = await http.PostAsync(requestObject["response_uri"]!.GetValue<string>(), content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    public static async Task<(int Status, JsonObject Body)> RedeemAsync(HttpClient http, string requestId, string? responseCode, string clientId = TestConfiguration.WebClient)
    {
        var form = new Dictionary<string, string> { ["request_id"] = requestId };
        if (responseCode is not null)
        {
            form["response_code"] = responseCode;
        }

        return await SendAsync(http, Authenticated("presentations/result", form, clientId));
    }

    public static string ResponseCode(JsonObject answer)
    {
        var redirect = new Uri(answer["redirect_uri"]!.GetValue<string>());
        Assert.StartsWith(TestConfiguration.WebRedirect + "?", redirect.AbsoluteUri, StringComparison.Ordinal);
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(redirect.Query)["response_code"].ToString();
    }

    /// <summary>A key-binding JWT written by hand, so that each part can be spoiled: over <paramref name="presented"/> (ending in <c>~</c>).</summary>
    public static string KeyBound(TestWallet wallet, string presented, string audience, string nonce, DateTimeOffset? issuedAt = null, string? sdHash = null)
    {
        var hash = sdHash ?? Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(presented)));
        var payload = new JsonObject { ["aud"] = audience, ["nonce"] = nonce, ["iat"] = (issuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(), ["sd_hash"] = hash };
        var kb = new JsonWebTokenHandler().CreateToken(payload.ToJsonString(), new SigningCredentials(wallet.Key, SecurityAlgorithms.EcdsaSha256),
            new Dictionary<string, object> { ["typ"] = "kb+jwt" });
        return presented + kb;
    }

    /// <summary>The issuer-signed JWT with its payload changed and signed again by <paramref name="key"/>.</summary>
    public static string Resigned(string issuerSignedJwt, Action<JsonObject> change, SecurityKey key)
    {
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(issuerSignedJwt.Split('.')[1]))!.AsObject();
        change(payload);
        return new JsonWebTokenHandler().CreateToken(payload.ToJsonString(), new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
            new Dictionary<string, object> { ["typ"] = SdJwtVcNames.Type });
    }
}
