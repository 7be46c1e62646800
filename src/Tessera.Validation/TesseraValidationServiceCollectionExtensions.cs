using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tessera.Validation;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The one call an API makes to accept Tessera's access tokens and receive its revocations.</summary>
public static class TesseraValidationServiceCollectionExtensions
{
    private const string BlockingRefreshSwitch = "Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking";

    /// <summary>Binds the options from <paramref name="configuration"/> (the <c>Tessera</c> section, typically).</summary>
    public static IServiceCollection AddTesseraValidation(this IServiceCollection services, IConfiguration configuration) =>
        services.AddTesseraValidation(configuration.Bind);

    /// <summary>
    /// Registers the "Tessera" authentication scheme as the default (bearer access tokens validated locally, with the
    /// validation cache and recheck policy), authorization, the Security Event Token receiver at
    /// <see cref="TesseraSignalOptions.Path"/>, and the <c>Tessera.Validation</c> metrics. Options are validated at start.
    /// </summary>
    public static IServiceCollection AddTesseraValidation(this IServiceCollection services, Action<TesseraValidationOptions> configure)
    {
        // A token signed with a newly rotated key should be accepted the first time it is seen, which needs
        // IdentityModel to await the refresh it causes (see SigningKeySource). IdentityModel reads this switch once
        // per process, and nothing has validated a token while services are being registered. An app that set the
        // switch itself keeps its choice.
        if (!AppContext.TryGetSwitch(BlockingRefreshSwitch, out _))
        {
            AppContext.SetSwitch(BlockingRefreshSwitch, true);
        }

        services.AddOptions<TesseraValidationOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TesseraValidationOptions>, TesseraValidationOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddLogging();

        services.TryAddSingleton(sp => new TesseraValidationMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<TesseraBackchannel>();
        services.TryAddSingleton<SigningKeySource>();
        services.TryAddSingleton<TesseraJwtVerifier>();
        services.TryAddSingleton<AccessTokenVerifier>();
        services.TryAddSingleton<ValidationCache>();
        services.TryAddSingleton<RevocationList>();
        services.TryAddSingleton<TokenIntrospector>();
        services.TryAddSingleton(sp => new TesseraTokenValidator(
            sp.GetRequiredService<IOptions<TesseraValidationOptions>>(), sp.GetRequiredService<AccessTokenVerifier>(), sp.GetRequiredService<ValidationCache>(),
            sp.GetRequiredService<RevocationList>(), sp.GetRequiredService<TokenIntrospector>(), sp.GetRequiredService<TesseraValidationMetrics>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TesseraTokenValidator>>()));

        services.TryAddSingleton<SecurityEventValidator>();
        services.TryAddSingleton<SecurityEventReplayGuard>();
        services.TryAddSingleton<SecurityEventProcessor>();
        services.TryAddSingleton<SecurityEventEndpoint>();
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, SecurityEventEndpointStartupFilter>());

        services.AddAuthentication(TesseraValidationDefaults.AuthenticationScheme)
            .AddScheme<TesseraAuthenticationSchemeOptions, TesseraAuthenticationHandler>(TesseraValidationDefaults.AuthenticationScheme, displayName: "Tessera", _ => { });
        services.AddAuthorization();
        return services;
    }
}
