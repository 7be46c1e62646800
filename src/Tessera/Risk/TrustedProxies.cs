using Microsoft.AspNetCore.HttpOverrides;
using Tessera.Hosting;

namespace Tessera.Risk;

/// <summary>
/// Which hops' <c>X-Forwarded-For</c> is believed. ASP.NET Core's forwarded-headers middleware does the reading; Tessera
/// only configures it: the configured proxies and nothing else (not even loopback, which the framework trusts by
/// default), walking the header from the right while the hop it came from is trusted. Without trusted proxies a request
/// comes from its socket's address, whatever headers it carries.
/// </summary>
public static class TrustedProxies
{
    /// <summary>Set when the request reached Tessera through a trusted proxy (so an edge's location headers may be believed).</summary>
    public const string ViaTrustedProxyItem = "tessera.via-trusted-proxy";

    public static IServiceCollection AddTesseraTrustedProxies(this IServiceCollection services, NetworkOptions network)
    {
        var proxies = NetworkList.Parse(network.TrustedProxies);
        services.AddSingleton(new TrustedProxyList(proxies));
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies.Networks)
            {
                options.KnownIPNetworks.Add(proxy);
            }

            options.ForwardLimit = null; // as many trusted hops as there are
            options.RequireHeaderSymmetry = false;
        });
        return services;
    }

    public static IApplicationBuilder UseTesseraTrustedProxies(this IApplicationBuilder app)
    {
        var proxies = app.ApplicationServices.GetRequiredService<TrustedProxyList>().Proxies;
        if (proxies.Networks.Count == 0)
        {
            return app;
        }

        app.Use((context, next) =>
        {
            if (proxies.Contains(context.Connection.RemoteIpAddress))
            {
                context.Items[ViaTrustedProxyItem] = true;
            }

            return next(context);
        });
        return app.UseForwardedHeaders();
    }
}

/// <summary>The trusted proxies, parsed once at start (the forwarded-headers middleware reads its options once too).</summary>
public sealed record TrustedProxyList(NetworkList Proxies);
