using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// A minimal browser: keeps cookies per host, follows redirects by hand, and sends requests for Tessera to the
/// in-process test server and everything else (the fake upstream IdP) over real loopback HTTP.
/// </summary>
public sealed class Browser : IDisposable
{
    private readonly HttpMessageInvoker _tessera;
    private readonly HttpMessageInvoker _network = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false });
    private readonly CookieContainer _cookies = new();
    private readonly Uri _tesseraBase;

    /// <param name="connection">Sets what the server sees of the connection (the peer address, say), for every request.</param>
    public Browser(TestServer server, Uri tesseraBase, Action<HttpContext>? connection = null)
    {
        _tessera = new HttpMessageInvoker(connection is null ? server.CreateHandler() : server.CreateHandler(connection));
        _tesseraBase = tesseraBase;
    }

    /// <summary>Headers sent with every request to Tessera (what a proxy in front of it would add).</summary>
    public Dictionary<string, string> TesseraHeaders { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<Uri> History { get; } = [];

    public CookieContainer Cookies => _cookies;

    public string? Cookie(string name) => _cookies.GetCookies(_tesseraBase)[name]?.Value;

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        var uri = request.RequestUri!;
        History.Add(uri);
        var header = _cookies.GetCookieHeader(uri);
        if (!string.IsNullOrEmpty(header))
        {
            request.Headers.Add("Cookie", header);
        }

        request.Headers.UserAgent.ParseAdd("TesseraTests/1.0");
        var toTessera = uri.Host == _tesseraBase.Host && uri.Port == _tesseraBase.Port;
        if (toTessera)
        {
            foreach (var (name, value) in TesseraHeaders)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        var invoker = toTessera ? _tessera : _network;
        var response = await invoker.SendAsync(request, CancellationToken.None);
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var setCookie in setCookies)
            {
                _cookies.SetCookies(uri, setCookie);
            }
        }

        return response;
    }

    public Task<HttpResponseMessage> GetAsync(string url) => SendAsync(new HttpRequestMessage(HttpMethod.Get, Absolute(url)));

    public Task<HttpResponseMessage> PostFormAsync(string url, IDictionary<string, string> form) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, Absolute(url)) { Content = new FormUrlEncodedContent(form) });

    /// <summary>Follows redirects from <paramref name="url"/> until a response is not a redirect or its target satisfies <paramref name="stopAt"/>.</summary>
    public async Task<Navigation> NavigateAsync(string url, Func<Uri, bool>? stopAt = null, int maxHops = 20)
    {
        var current = Absolute(url);
        for (var hop = 0; hop < maxHops; hop++)
        {
            var response = await GetAsync(current.AbsoluteUri);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(current, location);
                if (stopAt?.Invoke(next) == true)
                {
                    return new Navigation(response, next);
                }

                current = next;
                continue;
            }

            return new Navigation(response, null);
        }

        throw new InvalidOperationException("Too many redirects.");
    }

    private Uri Absolute(string url) => Uri.TryCreate(url, UriKind.Absolute, out var absolute) ? absolute : new Uri(_tesseraBase, url);

    public void Dispose()
    {
        _tessera.Dispose();
        _network.Dispose();
    }
}

/// <summary>Where navigation ended: the last response, and the redirect target that stopped it (if any).</summary>
public sealed record Navigation(HttpResponseMessage Response, Uri? StoppedAt);
