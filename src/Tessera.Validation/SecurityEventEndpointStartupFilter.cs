using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tessera.Validation;

/// <summary>
/// Mounts the SET receiver at the front of the app's pipeline, so <c>AddTesseraValidation</c> stays the only call.
/// It authenticates Tessera by its own rules (signature, optional Authorization value), not by the bearer scheme.
/// </summary>
internal sealed class SecurityEventEndpointStartupFilter(IOptions<TesseraValidationOptions> options) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var signals = options.Value.Signals;
        if (signals.Enabled)
        {
            var path = new PathString(signals.Path);
            app.Use((context, nextMiddleware) => context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase)
                ? context.RequestServices.GetRequiredService<SecurityEventEndpoint>().HandleAsync(context)
                : nextMiddleware(context));
        }

        next(app);
    };
}
