using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tessera.Federation;

namespace Tessera.Tests.Infrastructure;

/// <summary>A test host with St Mary's behind a fake upstream IdP: the common arrangement of sign-in tests.</summary>
public sealed class BrokeredSignIn : IAsyncDisposable
{
    private BrokeredSignIn(TesseraTestServer server, FakeUpstreamIdp idp)
    {
        Server = server;
        Idp = idp;
        Http = server.CreateClient();
    }

    public TesseraTestServer Server { get; }

    public FakeUpstreamIdp Idp { get; }

    public HttpClient Http { get; }

    public static async Task<BrokeredSignIn> StartAsync(Action<Tessera.Hosting.TesseraOptions>? configure = null, TimeProvider? time = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        var idp = await FakeUpstreamIdp.StartAsync();
        if (time is not null)
        {
            idp.Clock = time;
        }

        var server = await TesseraTestServer.StartAsync(options =>
        {
            TestConfiguration.AddStMarys(options, idp);
            configure?.Invoke(options);
        }, time, services: services);
        return new BrokeredSignIn(server, idp);
    }

    /// <summary>
    /// The same arrangement with the IdP known by <paramref name="hostName"/> over TLS: Tessera's resolver answers
    /// 127.0.0.1 for that name (and knows no other) and trusts the IdP's certificate, so a sign-in reaches loopback
    /// through a DNS name, as a name pointed at a private network would.
    /// </summary>
    /// <param name="fromFile">Also write the configuration to <see cref="ConfigFile"/> and watch it, for reload tests.</param>
    public static async Task<BrokeredSignIn> StartByNameAsync(string hostName, Action<Tessera.Hosting.TesseraOptions>? configure = null, bool fromFile = false)
    {
        var idp = await FakeUpstreamIdp.StartAsync(hostName);
        var file = fromFile ? Path.Combine(Path.GetTempPath(), "tessera-tests", Guid.NewGuid().ToString("N") + ".json") : null;
        var server = await TesseraTestServer.StartAsync(options =>
        {
            TestConfiguration.AddStMarys(options, idp);
            configure?.Invoke(options);
            if (file is not null)
            {
                ConfigurationFile.Write(options, file);
            }
        }, configFile: file, services: services =>
        {
            services.Replace(ServiceDescriptor.Singleton(new UpstreamHostResolver((host, _) => host == hostName
                ? Task.FromResult(new[] { IPAddress.Loopback })
                : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)))));
            services.AddHttpClient(OidcMetadataCache.HttpClientName).ConfigurePrimaryHttpMessageHandler((handler, _) =>
                ((SocketsHttpHandler)handler).SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && certificate.GetCertHashString() == idp.Certificate!.GetCertHashString());
        });
        return new BrokeredSignIn(server, idp) { ConfigFile = file };
    }

    /// <summary>The watched configuration file, when started from one.</summary>
    public string? ConfigFile { get; private init; }

    /// <summary>Signs in through the upstream with the public client and returns the redeemed tokens.</summary>
    public async Task<(AuthorizationOutcome Outcome, OauthResponse Tokens)> SignInAsync(Browser browser, string scope = "openid profile email offline_access read:reports doctor_access", IDictionary<string, string?>? extra = null)
    {
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, scope,
            extra ?? new Dictionary<string, string?> { ["login_hint"] = Idp.Person.Email });
        Assert.True(outcome.Code is not null, $"expected a code, got {outcome.Redirect} / {(int)outcome.Response.StatusCode} {await outcome.Response.Content.ReadAsStringAsync()}\n{string.Join("\n", Server.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal)))}");
        var tokens = await Oauth.RedeemAsync(Http, TestConfiguration.PublicClient, null, TestConfiguration.PublicRedirect, outcome);
        Assert.True(tokens.Status == 200, tokens.Json.ToString());
        return (outcome, tokens);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        await Idp.DisposeAsync();
    }
}
