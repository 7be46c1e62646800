using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tessera.Tests.Infrastructure;

/// <summary>A minimal web app on a free loopback port, for the outside parties Tessera talks to over real HTTP.</summary>
public static class LoopbackServer
{
    /// <summary>Maps the endpoints, starts, and returns the app with its base URL (<c>http://127.0.0.1:port</c>).</summary>
    public static async Task<(WebApplication App, string BaseUrl)> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address.Replace("localhost", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/'));
    }

    /// <summary>
    /// Like <see cref="StartAsync"/>, listening on a second free loopback port with TLS and <paramref name="certificate"/>;
    /// returns the plain HTTP base URL and the TLS port.
    /// </summary>
    public static async Task<(WebApplication App, string BaseUrl, int TlsPort)> StartWithTlsAsync(Action<WebApplication> map, X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var plain = addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)).TrimEnd('/');
        var tls = new Uri(addresses.First(a => a.StartsWith("https://", StringComparison.Ordinal))).Port;
        return (app, plain, tls);
    }
}
