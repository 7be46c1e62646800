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
}
