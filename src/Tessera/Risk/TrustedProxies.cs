using Microsoft.AspNetCore.HttpOverrides;
using Tessera.Hosting;

namespace Tessera.Risk;

/// <summary>
/// Which hops' forwarding header is believed. ASP.NET Core's forwarded-headers middleware does the reading; Tessera
/// only configures it: the configured proxies and nothing else (not even loopback, which the framework trusts by
/// default), walking the header from the right while the hop it came from is trusted. Without trusted proxies a request
/// comes from its socket's address, whatever headers it carries. With <c>Network.ForwardedHeader: Forwarded</c>, the
/// RFC 7239 header's <c>for</c> nodes are handed to the middleware in X-Forwarded-For's place, and an
/// X-Forwarded-For the client sent is dropped, so that only the header the proxies write is ever walked.
/// </summary>
public static class TrustedProxies
{
    /// <summary>Set when the request reached Tessera through a trusted proxy (so an edge's location headers may be believed).</summary>
    public const string ViaTrustedProxyItem = "tessera.via-trusted-proxy";

    public static IServiceCollection AddTesseraTrustedProxies(this IServiceCollection services, NetworkOptions network)
    {
        var proxies = NetworkList.Parse(network.TrustedProxies);
        services.AddSingleton(new TrustedProxyList(proxies, network.ForwardedHeader));
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

        var rfc7239 = app.ApplicationServices.GetRequiredService<TrustedProxyList>().Header == NetworkOptions.Forwarded;
        app.Use((context, next) =>
        {
            if (proxies.Contains(context.Connection.RemoteIpAddress))
            {
                context.Items[ViaTrustedProxyItem] = true;
            }

            if (rfc7239)
            {
                var headers = context.Request.Headers;
                var forwardedFor = ForwardedHeader.ToForwardedFor(headers[ForwardedHeader.Name]);
                headers.Remove(ForwardedHeadersDefaults.XForwardedForHeaderName);
                if (forwardedFor is not null)
                {
                    headers[ForwardedHeadersDefaults.XForwardedForHeaderName] = forwardedFor;
                }
            }

            return next(context);
        });
        return app.UseForwardedHeaders();
    }
}

/// <summary>The trusted proxies, parsed once at start (the forwarded-headers middleware reads its options once too).</summary>
public sealed record TrustedProxyList(NetworkList Proxies, string Header);
