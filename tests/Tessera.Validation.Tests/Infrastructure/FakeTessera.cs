using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation.Tests.Infrastructure;

/// <summary>
/// Tessera as an API's backchannel sees it: discovery, JWKS and introspection, served from memory. Counts every
/// request; introspection answers active unless the token was deactivated, and can be held or made unreachable.
/// </summary>
public sealed class FakeTessera : HttpMessageHandler
{
    /// <summary>Tessera's Authority, as an API owner configures it.</summary>
    public const string Issuer = "https://tessera.test";

    /// <summary>The issuer as Tessera's discovery document and tokens spell it: an empty path is written "/".</summary>
    public const string IssuerName = Issuer + "/";
    public const string ClientId = "orders-api";
    public const string ClientSecret = "orders-api-secret";

    private readonly ConcurrentDictionary<string, bool> _inactive = new(StringComparer.Ordinal);
    private int _discoveryFetches;
    private int _jwksFetches;
    private int _introspections;

    public FakeTessera(params TestKey[] published) => Published = [.. published];

    /// <summary>The keys the JWKS currently lists; replace to rotate.</summary>
    public IReadOnlyList<TestKey> Published { get; set; }

    public int DiscoveryFetches => Volatile.Read(ref _discoveryFetches);

    public int JwksFetches => Volatile.Read(ref _jwksFetches);

    public int Introspections => Volatile.Read(ref _introspections);

    /// <summary>While set, introspection requests wait for it to complete (to line up concurrent rechecks).</summary>
    public TaskCompletionSource? IntrospectionGate { get; set; }

    /// <summary>Introspection fails at the network level, as when Tessera is down.</summary>
    public bool IntrospectionUnreachable { get; set; }

    /// <summary>Delay before the JWKS answers, so concurrent misses overlap.</summary>
    public TimeSpan JwksDelay { get; set; }

    public void Deactivate(string token) => _inactive[token] = true;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        switch (request.RequestUri!.AbsolutePath)
        {
            case "/.well-known/openid-configuration":
                Interlocked.Increment(ref _discoveryFetches);
                return Json(new Dictionary<string, object>
                {
                    ["issuer"] = IssuerName,
                    ["jwks_uri"] = Issuer + "/.well-known/jwks",
                    ["introspection_endpoint"] = Issuer + "/connect/introspect",
                    ["token_endpoint"] = Issuer + "/connect/token",
                });

            case "/.well-known/jwks":
                Interlocked.Increment(ref _jwksFetches);
                if (JwksDelay > TimeSpan.Zero)
                {
                    await Task.Delay(JwksDelay, cancellationToken);
                }

                return Json(new JsonObject { ["keys"] = new JsonArray([.. Published.Select(k => (JsonNode)k.PublicJwk())]) });

            case "/connect/introspect":
                return await IntrospectAsync(request, cancellationToken);

            default:
                return new HttpResponseMessage(HttpStatusCode.NotFound);
        }
    }

    private async Task<HttpResponseMessage> IntrospectAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _introspections);
        if (IntrospectionGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (IntrospectionUnreachable)
        {
            throw new HttpRequestException("Connection refused (fake).");
        }

        var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes(ClientId + ":" + ClientSecret));
        if (request.Headers.Authorization is not { Scheme: "Basic" } authorization || authorization.Parameter != expected)
        {
            return new HttpResponseMessage(HttpStatusCode.Unauthorized);
        }

        var form = await request.Content!.ReadAsStringAsync(cancellationToken);
        var token = form.Split('&').Select(p => p.Split('=', 2)).Where(p => p[0] == "token").Select(p => WebUtility.UrlDecode(p[1])).Single();
        return Json(new Dictionary<string, object> { ["active"] = !_inactive.ContainsKey(token) });
    }

    private static HttpResponseMessage Json(object body) => new(HttpStatusCode.OK)
    {
        Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
    };
}
