using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using Tessera.Tests.Infrastructure;
using Tessera.Tests.Signals;

namespace Tessera.Tests.Hostile;

/// <summary>
/// No request of any shape answers 5xx: a corpus of malformed requests (bad and missing content types, invalid UTF-8
/// and percent-encoding, duplicated parameters, empty, huge and chunked bodies, gigantic headers and query strings,
/// broken Authorization headers, every method) is sent to every endpoint the server maps, in process and, for what only
/// a real HTTP server sees (header limits, broken chunked framing), to Kestrel on a loopback port.
/// </summary>
public sealed class MalformedRequestCorpusTests(MalformedRequestCorpusTests.Hosts hosts) : IClassFixture<MalformedRequestCorpusTests.Hosts>
{
    private const string Form = "application/x-www-form-urlencoded";

    /// <summary>A malformed request for a path, by the attack it stands for.</summary>
    private static readonly Dictionary<string, Func<string, HttpRequestMessage>> Shapes = new()
    {
        ["GET with no body"] = path => new(HttpMethod.Get, path),
        ["GET with a form body"] = path => With(new(HttpMethod.Get, path), Bytes("grant_type=client_credentials", Form)),
        ["POST with an empty form"] = path => With(new(HttpMethod.Post, path), Bytes("", Form)),
        ["POST with no content type"] = path => With(new(HttpMethod.Post, path), new ByteArrayContent("a=b"u8.ToArray())),
        ["POST of raw bytes that are not UTF-8"] = path => With(new(HttpMethod.Post, path), Raw([0x61, 0x3D, 0xFF, 0xFE, 0xC3, 0x28, 0x26, 0xF0, 0x28, 0x8C, 0x28], Form)),
        ["POST of percent-encoded bytes that are not UTF-8"] = path => With(new(HttpMethod.Post, path), Bytes("grant_type=%FF%FE&client_id=%C3%28&scope=%ED%A0%80", Form)),
        ["POST with broken percent-encoding"] = path => With(new(HttpMethod.Post, path), Bytes("a=%zz&%=%&=&&==&%%%%&grant_type=%", Form)),
        ["POST with every parameter twice"] = path => With(new(HttpMethod.Post, path), Bytes(
            "grant_type=client_credentials&grant_type=authorization_code&client_id=a&client_id=b&scope=openid&scope=x&token=t&token=u&SAMLResponse=a&SAMLResponse=b&RelayState=r&RelayState=s&response_type=code&response_type=token&redirect_uri=http%3A%2F%2Fa&redirect_uri=http%3A%2F%2Fb", Form)),
        ["POST of JSON that does not parse"] = path => With(new(HttpMethod.Post, path), Bytes("{\"a\": [1, 2,", "application/json")),
        ["POST of JSON nested ten thousand deep"] = path => With(new(HttpMethod.Post, path), Bytes(new string('[', 10_000) + new string(']', 10_000), "application/scim+json")),
        ["POST of plain text"] = path => With(new(HttpMethod.Post, path), Bytes("hello", "text/plain")),
        ["POST with an unknown charset"] = path => With(new(HttpMethod.Post, path), Bytes("a=b", Form + "; charset=no-such-charset")),
        ["POST with UTF-7 declared"] = path => With(new(HttpMethod.Post, path), Bytes("a=+AGEAYgBj-", Form + "; charset=utf-7")),
        ["POST with a content type that does not parse"] = path => With(new(HttpMethod.Post, path), Unparsed("a=b", ";;;==/x; charset=\"")),
        ["POST multipart without a boundary"] = path => With(new(HttpMethod.Post, path), Unparsed("--x\r\n\r\n", "multipart/form-data")),
        ["POST multipart with a broken body"] = path => With(new(HttpMethod.Post, path), Unparsed("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "multipart/form-data; boundary=b")),
        ["POST of a two-megabyte form"] = path => With(new(HttpMethod.Post, path), Bytes("a=" + new string('x', 2 * 1024 * 1024), Form)),
        ["POST of a two-megabyte body, chunked"] = path => With(new(HttpMethod.Post, path), Chunked(Encoding.ASCII.GetBytes("a=" + new string('x', 2 * 1024 * 1024)), Form)),
        ["POST of a form with ten thousand fields"] = path => With(new(HttpMethod.Post, path), Bytes(string.Join('&', Enumerable.Range(0, 10_000).Select(i => $"f{i}=v")), Form)),
        ["POST with a two-kilobyte field name"] = path => With(new(HttpMethod.Post, path), Bytes(new string('k', 2048) + "=v", Form)),
        ["PUT with a form body"] = path => With(new(HttpMethod.Put, path), Bytes("a=b", Form)),
        ["PATCH with a JSON body"] = path => With(new(HttpMethod.Patch, path), Bytes("{}", "application/json")),
        ["DELETE"] = path => new(HttpMethod.Delete, path),
        ["OPTIONS"] = path => new(HttpMethod.Options, path),
        ["a query string of a hundred kilobytes"] = path => new(HttpMethod.Get, path + "?q=" + new string('x', 100_000)),
        ["a query with broken percent-encoding and invalid UTF-8"] = path => new(HttpMethod.Get, path + "?client_id=%zz&%FF%FE=%C3%28&response_type=code&response_type=token&redirect_uri=%"),
        ["a gigantic header"] = path => Header(new(HttpMethod.Get, path), "X-Padding", new string('x', 64 * 1024)),
        ["a gigantic cookie"] = path => Header(new(HttpMethod.Get, path), "Cookie", string.Join("; ", Enumerable.Range(0, 4000).Select(i => $"c{i}=v{i}"))),
        ["a session cookie that is not one"] = path => Header(new(HttpMethod.Get, path), "Cookie", "tessera.session=%%%; tessera.antiforgery=garbage; tessera.binding=" + new string('z', 4000)),
        ["Basic credentials that are not base64"] = path => Header(With(new(HttpMethod.Post, path), Bytes("grant_type=client_credentials", Form)), "Authorization", "Basic !!!not-base64!!!"),
        ["Basic credentials without a colon"] = path => Header(With(new(HttpMethod.Post, path), Bytes("grant_type=client_credentials", Form)), "Authorization", "Basic " + Convert.ToBase64String("no-colon-here"u8.ToArray())),
        ["Basic credentials with invalid UTF-8 and escapes"] = path => Header(With(new(HttpMethod.Post, path), Bytes("grant_type=client_credentials", Form)), "Authorization", "Basic " + Convert.ToBase64String([0xFF, 0x25, 0x7A, 0x3A, 0xC3, 0x28])),
        ["a Bearer header with no token"] = path => Header(new(HttpMethod.Get, path), "Authorization", "Bearer"),
        ["a Bearer token of eight kilobytes"] = path => Header(new(HttpMethod.Get, path), "Authorization", "Bearer " + new string('a', 8192)),
        ["an If-Match that is not an ETag"] = path => Header(Header(new(HttpMethod.Get, path), "If-Match", "\"unterminated"), "If-None-Match", "W/"),
        ["an Accept that matches nothing"] = path => Header(new(HttpMethod.Get, path), "Accept", "application/x-nothing;q=abc, */*;q=-1"),
    };

    private static readonly HashSet<string> LargeBodies = ["POST of a two-megabyte form", "POST of a two-megabyte body, chunked"];

    public static TheoryData<string> ShapeNames() => [.. Shapes.Keys];

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public async Task No_malformed_request_to_any_endpoint_answers_a_server_error(string shape)
    {
        var failures = new List<string>();
        foreach (var path in hosts.Paths)
        {
            using var request = Shapes[shape](path);
            using var response = await hosts.InProcess.Http.SendAsync(request);
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"{request.Method} /{(path.Length > 80 ? path[..80] + "..." : path)}: {(int)response.StatusCode}");
            }
        }

        Assert.True(failures.Count == 0, $"{shape}:\n{string.Join('\n', failures)}\n{Errors(hosts.InProcess.Server)}");
        Assert.True(hosts.Paths.Count > 30, "the corpus reached every mapped endpoint");
    }

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public async Task No_malformed_request_to_a_real_HTTP_server_answers_a_server_error(string shape)
    {
        var failures = new List<string>();
        foreach (var path in hosts.Paths)
        {
            using var request = Shapes[shape](path);

            // The server may close a connection after answering without reading a body it refuses (RFC 9112 §9.6). A
            // client that pooled that connection would see the next row's request fail on it, so such a connection
            // is not reused.
            request.Headers.ConnectionClose = LargeBodies.Contains(shape);
            HttpResponseMessage response;
            try
            {
                response = await hosts.Loopback.SendAsync(request);
            }
            catch (HttpRequestException) when (LargeBodies.Contains(shape))
            {
                // The server answered before the client finished sending a body it will not read, and closed the
                // connection, as HTTP/1.1 allows (RFC 9112 §9.6); what it answered is checked on a raw socket below.
                continue;
            }
            catch (HttpRequestException exception)
            {
                failures.Add($"{request.Method} /{(path.Length > 80 ? path[..80] + "..." : path)}: no answer ({exception.InnerException?.Message ?? exception.Message})");
                continue;
            }

            using (response)
            {
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"{request.Method} /{(path.Length > 80 ? path[..80] + "..." : path)}: {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{shape}:\n{string.Join('\n', failures)}\n{Errors(hosts.OnKestrel)}");
    }

    /// <summary>Framing that no HTTP client library sends: the server must answer 4xx or close the connection, never 5xx.</summary>
    public static TheoryData<string, string> RawRows => new()
    {
        { "broken chunk sizes", "POST /token HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nzz\r\nbad\r\n0\r\n\r\n" },
        { "both Content-Length and chunked", "POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n3\r\na=b\r\n0\r\n\r\n" },
        { "a Content-Length that is not a number", "POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Length: ten\r\n\r\n" },
        { "two different Content-Lengths", "POST /introspect HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 4\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=bc" },
        { "a header line without a colon", "GET /healthz HTTP/1.1\r\nHost: localhost\r\nThis is not a header\r\n\r\n" },
        { "a request line of a hundred kilobytes", $"GET /authorize?x={new string('x', 100_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n" },
        { "a hundred kilobytes of headers", $"GET /signin HTTP/1.1\r\nHost: localhost\r\nX-A: {new string('a', 50_000)}\r\nX-B: {new string('b', 50_000)}\r\n\r\n" },
        { "a declared body of a gigabyte", "POST /saml/stmarys-saml/acs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1073741824\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nSAMLResponse=" },
        { "a two-megabyte form to the token endpoint", "POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2097154\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=" + new string('x', 2 * 1024 * 1024) },
        { "a NUL byte in the path", "GET /scim/v2/st-marys/Users/%00 HTTP/1.1\r\nHost: localhost\r\n\r\n" },
        { "an absolute-form target to another host", "GET http://evil.example/token HTTP/1.1\r\nHost: localhost\r\n\r\n" },
        { "HTTP/1.0 without Host", "POST /revoke HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\ntoken=x" },
    };

    [Theory]
    [MemberData(nameof(RawRows))]
    public async Task Broken_framing_is_refused_by_the_server_not_failed(string attack, string raw)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(hosts.OnKestrel.LoopbackAddress.Host, hosts.OnKestrel.LoopbackAddress.Port);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(raw));
        }
        catch (IOException)
        {
            // The server may close the connection before the whole request is written; what it answered is read below.
        }

        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = 0;
        try
        {
            read = await stream.ReadAsync(buffer, timeout.Token);
        }
        catch (IOException)
        {
            // reset: no answer at all, which is not a server error either
        }

        var statusLine = Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
        Assert.True(read == 0 || System.Text.RegularExpressions.Regex.IsMatch(statusLine, @"^HTTP/1\.[01] [1-4]\d\d "), $"{attack}: {statusLine}\n{Errors(hosts.OnKestrel)}");
    }

    private static string Errors(TesseraTestServer server) =>
        string.Join('\n', server.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal)).TakeLast(5));

    private static HttpRequestMessage With(HttpRequestMessage request, HttpContent content)
    {
        request.Content = content;
        return request;
    }

    private static HttpRequestMessage Header(HttpRequestMessage request, string name, string value)
    {
        request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    private static ByteArrayContent Bytes(string body, string contentType) => Raw(Encoding.UTF8.GetBytes(body), contentType);

    private static ByteArrayContent Raw(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static ByteArrayContent Unparsed(string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static StreamContent Chunked(byte[] body, string contentType)
    {
        var content = new StreamContent(new UnseekableStream(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    /// <summary>A body whose length is not known in advance, so it goes out chunked.</summary>
    private sealed class UnseekableStream(byte[] body) : MemoryStream(body, writable: false)
    {
        public override bool CanSeek => false;
    }

    /// <summary>
    /// The demo's mock IdP switched on (so its endpoints are in the corpus too), St Mary's over OIDC and SAML, SCIM and
    /// signals: once in process, once on Kestrel. <see cref="Paths"/> is every mapped route and every OpenIddict endpoint.
    /// </summary>
    public sealed class Hosts : IAsyncLifetime
    {
        private SignalArrangement _inProcess = null!;

        public SignalArrangement InProcess => _inProcess;

        public TesseraTestServer OnKestrel { get; private set; } = null!;

        public HttpClient Loopback { get; private set; } = null!;

        public IReadOnlyList<string> Paths { get; private set; } = [];

        public async Task InitializeAsync()
        {
            _inProcess = await SignalArrangement.StartAsync(Configure);
            OnKestrel = await TesseraTestServer.StartAsync(options =>
            {
                ScimClient.Configure(options);
                Configure(options);
            }, loopback: true);
            Loopback = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            {
                BaseAddress = OnKestrel.LoopbackAddress,
                Timeout = TimeSpan.FromSeconds(30),
            };
            Paths = MappedPaths(_inProcess.Server);
        }

        private static void Configure(Tessera.Hosting.TesseraOptions options)
        {
            options.Development.Demo = true;
            options.Organizations.Add(new Tessera.Hosting.OrganizationOptions { Id = "saml-partner", Domains = ["partner.example"], Connections = [SamlSignIn.Connection()] });
        }

        private static List<string> MappedPaths(TesseraTestServer server)
        {
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                ["organization"] = TestConfiguration.Organization,
                ["receiver"] = SignalArrangement.PollReceiver,
                ["id"] = Guid.NewGuid().ToString(),
                ["name"] = "User",
                ["rest"] = "Bulk",
                ["organizationId"] = TestConfiguration.Organization,
                ["documentName"] = "v1",
                ["secretId"] = "sec-0",
                ["sessionId"] = Guid.NewGuid().ToString(),
                ["token"] = "tsetup_not-a-link",
                ["provider"] = "okta-saml",
                ["list"] = "1",
            };
            var paths = new List<string>();
            foreach (var endpoint in server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
            {
                var raw = endpoint.RoutePattern.RawText!.TrimStart('/');
                if (raw.Contains("{connectionId}", StringComparison.Ordinal))
                {
                    paths.Add(raw.Replace("{connectionId}", SamlSignIn.ConnectionId, StringComparison.Ordinal));
                    paths.Add(raw.Replace("{connectionId}", TestConfiguration.Connection, StringComparison.Ordinal));
                    paths.Add(raw.Replace("{connectionId}", new string('c', 3000), StringComparison.Ordinal));
                    continue;
                }

                paths.Add(System.Text.RegularExpressions.Regex.Replace(raw, @"\{\**(\w+)\}", m => values[m.Groups[1].Value]));
            }

            var openIddict = server.Services.GetRequiredService<IOptions<OpenIddictServerOptions>>().Value;
            paths.AddRange(new[]
                {
                    openIddict.AuthorizationEndpointUris, openIddict.TokenEndpointUris, openIddict.IntrospectionEndpointUris, openIddict.RevocationEndpointUris,
                    openIddict.UserInfoEndpointUris, openIddict.EndSessionEndpointUris, openIddict.JsonWebKeySetEndpointUris, openIddict.ConfigurationEndpointUris,
                }
                .SelectMany(uris => uris).Select(uri => uri.OriginalString.TrimStart('/')));
            paths.Add("no/such/endpoint");
            return paths.Distinct(StringComparer.Ordinal).ToList();
        }

        public async Task DisposeAsync()
        {
            Loopback.Dispose();
            await _inProcess.DisposeAsync();
            await OnKestrel.DisposeAsync();
        }
    }
}
