using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation;

/// <summary>
/// Everything that talks to Tessera: one HTTP client (the app's <see cref="TesseraValidationOptions.BackchannelHandler"/>
/// or a pooled one) and the configuration manager that caches the discovery document and the key set.
/// </summary>
internal sealed class TesseraBackchannel : IDisposable
{
    public TesseraBackchannel(IOptions<TesseraValidationOptions> options)
    {
        var settings = options.Value;
        var ownsHandler = settings.BackchannelHandler is null;
        HttpMessageHandler handler = settings.BackchannelHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        Http = new HttpClient(handler, ownsHandler) { Timeout = settings.BackchannelTimeout };
        Http.DefaultRequestHeaders.UserAgent.ParseAdd("Tessera.Validation");

        var authority = new Uri(settings.Authority.TrimEnd('/'));
        Configuration = settings.ConfigurationManager ?? new ConfigurationManager<OpenIdConnectConfiguration>(
            authority.AbsoluteUri.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(Http) { RequireHttps = !authority.IsLoopback })
        {
            // SigningKeySource spaces refreshes by KeyRefreshInterval on the injected clock; the manager's own
            // wall-clock gate is set to its minimum so it never second-guesses that decision.
            RefreshInterval = BaseConfigurationManager.MinimumRefreshInterval,
        };
    }

    public HttpClient Http { get; }

    public IConfigurationManager<OpenIdConnectConfiguration> Configuration { get; }

    public void Dispose() => Http.Dispose();
}
