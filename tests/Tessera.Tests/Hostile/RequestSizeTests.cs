using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;
using Tessera.Tests.Signals;

namespace Tessera.Tests.Hostile;

/// <summary>
/// Every endpoint that reads a body, at its limit (<c>RequestLimits.MaxBodyBytes</c>): one byte under and exactly at the
/// limit reach the endpoint; one byte over, and a huge body sent chunked with no Content-Length, are refused with 413
/// and the protocol's own error, change nothing, and leave one audit row.
/// </summary>
public sealed class RequestSizeTests(RequestSizeTests.Host host) : IClassFixture<RequestSizeTests.Host>
{
    private static readonly BodyLimitOptions Limits = new();

    /// <summary>How an endpoint answers a refusal: OAuth error JSON, RFC 8936 error JSON, the SCIM error schema, or the error page.</summary>
    public enum Style
    {
        OAuth,
        Poll,
        Scim,
        Page,
    }

    /// <param name="Reached">What the endpoint itself answers a body within the limit (the padding is ignored, or refused by the endpoint's own rules).</param>
    /// <param name="AuditEvent">The audit row a refusal leaves, and how its reason starts.</param>
    public sealed record Endpoint(string Name, int Limit, int Reached, Style Style, (string Event, string Reason) AuditEvent, Func<Host, int, Task<HttpRequestMessage>> Build);

    private static readonly (string, string) SizeRefusal = ("request.refused", "body_too_large");

    private static readonly Endpoint[] Endpoints =
    [
        new("token", Limits.Token, 200, Style.OAuth, SizeRefusal, (_, size) => Task.FromResult(Form("token", size, OAuthPadding,
            new() { ["grant_type"] = "client_credentials", ["scope"] = "write:orders" }, Basic(TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret)))),
        new("introspection", Limits.Introspection, 200, Style.OAuth, SizeRefusal, async (h, size) => Form("introspect", size, OAuthPadding,
            new() { ["token"] = await h.ServiceTokenAsync() }, Basic(TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret))),
        new("revocation", Limits.Revocation, 200, Style.OAuth, SizeRefusal, async (h, size) => Form("revoke", size, OAuthPadding,
            new() { ["token"] = await h.ServiceTokenAsync() }, Basic(TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret))),
        new("userinfo", Limits.UserInfo, 200, Style.OAuth, SizeRefusal, async (h, size) => Form("userinfo", size, OAuthPadding,
            new() { ["access_token"] = await h.ServiceTokenAsync() })),
        new("authorization", Limits.Authorization, 302, Style.Page, SizeRefusal, (_, size) => Task.FromResult(Form("authorize", size, OAuthPadding, new()
        {
            ["client_id"] = TestConfiguration.PublicClient, ["redirect_uri"] = TestConfiguration.PublicRedirect, ["response_type"] = "code",
            ["scope"] = "openid", ["state"] = "s", ["nonce"] = "n", ["code_challenge"] = Oauth.Pkce().Challenge, ["code_challenge_method"] = "S256",
        }))),
        new("end-session", Limits.EndSession, 302, Style.Page, SizeRefusal, (_, size) => Task.FromResult(Form("logout", size, OAuthPadding, new()))),
        new("SAML ACS", Limits.SamlAcs, 400, Style.Page, SizeRefusal, (_, size) => Task.FromResult(Form($"saml/{SamlSignIn.ConnectionId}/acs", size, Limits.SamlAcs,
            new() { ["RelayState"] = "" }))),
        new("signal polling", Limits.SignalPoll, 200, Style.Poll, SizeRefusal, (_, size) => Task.FromResult(Json($"signals/poll/{SignalArrangement.PollReceiver}", size,
            """{"returnImmediately":true,"maxEvents":0,"padding":"PAD"}""", "application/json", SignalArrangement.PollAuthorization))),
        new("SCIM", Limits.Scim, 400, Style.Scim, ("scim.refused", "413"), (_, size) => Task.FromResult(Json($"scim/v2/{TestConfiguration.Organization}/Users", size,
            """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"PAD@stmarys.example"}""", "application/scim+json", "Bearer " + ScimClient.StMarysToken))),
    ];

    /// <summary>OAuth parameters may be 2 KiB each; padding stays under that so only the body's size is tested.</summary>
    private const int OAuthPadding = 1900;

    public static TheoryData<string, string> Rows()
    {
        var rows = new TheoryData<string, string>();
        foreach (var endpoint in Endpoints)
        {
            foreach (var size in new[] { "one byte under the limit", "exactly at the limit", "one byte over the limit", "four times the limit, chunked, no Content-Length" })
            {
                rows.Add(endpoint.Name, size);
            }
        }

        return rows;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task A_body_is_read_up_to_its_endpoints_limit_and_refused_beyond_it(string endpointName, string size)
    {
        var endpoint = Endpoints.Single(e => e.Name == endpointName);
        var (bytes, chunked, refused) = size switch
        {
            "one byte under the limit" => (endpoint.Limit - 1, false, false),
            "exactly at the limit" => (endpoint.Limit, false, false),
            "one byte over the limit" => (endpoint.Limit + 1, false, true),
            _ => (endpoint.Limit * 4, true, true),
        };
        using var request = await endpoint.Build(host, bytes);
        var body = await request.Content!.ReadAsByteArrayAsync();
        Assert.Equal(bytes, body.Length);
        if (chunked)
        {
            request.Content = Chunked(body, request.Content.Headers.ContentType!);
        }

        var before = await StateSnapshot.TakeAsync(host.Server);
        var auditBefore = (await host.Server.AuditAsync()).Count;

        using var response = await host.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        var audit = (await host.Server.AuditAsync()).Skip(auditBefore).ToList();
        if (!refused)
        {
            Assert.True(endpoint.Reached == (int)response.StatusCode, $"{endpointName}, {size}: {(int)response.StatusCode} {text}");
            Assert.DoesNotContain(audit, a => a.Event == "request.refused");
            return;
        }

        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{endpointName}, {size}: {(int)response.StatusCode} {text}");
        switch (endpoint.Style)
        {
            case Style.OAuth:
                Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
                using (var json = JsonDocument.Parse(text))
                {
                    Assert.Equal("invalid_request", json.RootElement.GetProperty("error").GetString());
                    Assert.Contains(endpoint.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), json.RootElement.GetProperty("error_description").GetString(), StringComparison.Ordinal);
                }

                Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
                break;
            case Style.Poll:
                using (var json = JsonDocument.Parse(text))
                {
                    Assert.Equal("invalid_request", json.RootElement.GetProperty("err").GetString());
                }

                break;
            case Style.Scim:
                using (var json = JsonDocument.Parse(text))
                {
                    Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", json.RootElement.GetProperty("schemas")[0].GetString());
                    Assert.Equal("413", json.RootElement.GetProperty("status").GetString());
                }

                break;
            case Style.Page:
                Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
                Assert.Contains("Request refused", text, StringComparison.Ordinal);
                Assert.Contains(endpoint.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
                break;
        }

        Assert.Equal(before, await StateSnapshot.TakeAsync(host.Server));
        var row = Assert.Single(audit);
        Assert.Equal((endpoint.AuditEvent.Event, AuditEvent.Failure), (row.Event, row.Outcome));
        Assert.StartsWith(endpoint.AuditEvent.Reason, row.Reason, StringComparison.Ordinal);
    }

    /// <summary>Forms refused for their shape rather than their size: the status, whether the answer is OAuth JSON, and the audited rule.</summary>
    public static TheoryData<string, int, bool, string> ShapeRows => new()
    {
        { "a multipart token request", 415, true, "unsupported_media_type" },
        { "a token request with more parameters than allowed", 400, true, "form_limits" },
        { "a sign-in form with more fields than allowed", 400, false, "form_limits" },
    };

    [Theory]
    [MemberData(nameof(ShapeRows))]
    public async Task A_form_of_a_shape_no_endpoint_reads_is_refused_before_anything_reads_it(string attack, int status, bool oauth, string rule)
    {
        var many = Enumerable.Range(0, 80).ToDictionary(i => $"p{i}", _ => "v");
        using var request = attack switch
        {
            "a multipart token request" => new HttpRequestMessage(HttpMethod.Post, "token")
            {
                Content = new MultipartFormDataContent { { new StringContent("client_credentials"), "grant_type" } },
            },
            "a token request with more parameters than allowed" => Form("token", 0, OAuthPadding, new(many) { ["grant_type"] = "client_credentials" }),
            _ => new HttpRequestMessage(HttpMethod.Post, "signin") { Content = new FormUrlEncodedContent(many) },
        };
        request.Headers.Authorization = oauth ? Basic(TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret) : null;
        var before = await StateSnapshot.TakeAsync(host.Server);
        var auditBefore = (await host.Server.AuditAsync()).Count;

        using var response = await host.Http.SendAsync(request);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{attack}: {(int)response.StatusCode} {text}");
        if (oauth)
        {
            using var json = JsonDocument.Parse(text);
            Assert.Equal("invalid_request", json.RootElement.GetProperty("error").GetString());
        }
        else
        {
            Assert.Contains("Request refused", text, StringComparison.Ordinal);
        }

        Assert.Equal(before, await StateSnapshot.TakeAsync(host.Server));
        var row = Assert.Single((await host.Server.AuditAsync()).Skip(auditBefore));
        Assert.Equal("request.refused", row.Event);
        Assert.StartsWith(rule, row.Reason, StringComparison.Ordinal);
    }

    /// <summary>A form of exactly <paramref name="size"/> bytes: the fields, then padding fields of at most <paramref name="maxValue"/> characters.</summary>
    private static HttpRequestMessage Form(string path, int size, int maxValue, Dictionary<string, string> fields, AuthenticationHeaderValue? authorization = null)
    {
        var body = new StringBuilder(string.Join('&', fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}")));
        for (var i = 0; body.Length < size; i++)
        {
            var prefix = (body.Length == 0 ? "" : "&") + $"pad{i}=";
            var room = size - body.Length - prefix.Length;
            // Leave either nothing or enough for one more whole field (its prefix and one character).
            var take = Math.Min(maxValue, room);
            if (room - take is > 0 and < 12)
            {
                take = room - 12;
            }

            body.Append(prefix).Append('x', Math.Max(0, take));
        }

        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.ASCII.GetBytes(body.ToString()))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded") },
            },
        };
        request.Headers.Authorization = authorization;
        return request;
    }

    /// <summary>A JSON body of exactly <paramref name="size"/> bytes: <paramref name="template"/> with PAD stretched to fit.</summary>
    private static HttpRequestMessage Json(string path, int size, string template, string mediaType, string authorization)
    {
        var body = template.Replace("PAD", new string('x', size - (template.Length - 3)), StringComparison.Ordinal);
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.ASCII.GetBytes(body)) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } },
        };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return request;
    }

    private static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));

    private static StreamContent Chunked(byte[] body, MediaTypeHeaderValue type)
    {
        var content = new StreamContent(new UnknownLengthStream(body));
        content.Headers.ContentType = type;
        return content;
    }

    /// <summary>A readable stream that does not say how long it is, so the request goes out chunked.</summary>
    private sealed class UnknownLengthStream(byte[] body) : MemoryStream(body, writable: false)
    {
        public override bool CanSeek => false;
    }

    /// <summary>One server for the table: St Mary's over OIDC with SCIM and signals, and a SAML connection for the ACS.</summary>
    public sealed class Host : IAsyncLifetime
    {
        private SignalArrangement _arrangement = null!;

        public TesseraTestServer Server => _arrangement.Server;

        public HttpClient Http => _arrangement.Http;

        public async Task InitializeAsync() => _arrangement = await SignalArrangement.StartAsync(options =>
            options.Organizations.Add(new OrganizationOptions { Id = "saml-partner", Domains = ["partner.example"], Connections = [SamlSignIn.Connection()] }));

        public async Task<string> ServiceTokenAsync()
        {
            var response = await Oauth.ClientCredentialsAsync(Http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "write:orders");
            Assert.Equal(200, response.Status);
            return response["access_token"]!;
        }

        public async Task DisposeAsync() => await _arrangement.DisposeAsync();
    }
}
