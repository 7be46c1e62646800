namespace Tessera.Credentials;

/// <summary>The services of issuing and verifying credentials.</summary>
public static class CredentialServices
{
    public static IServiceCollection AddTesseraCredentials(this IServiceCollection services)
    {
        services.AddScoped<CredentialNonces>();
        services.AddScoped<CredentialAccess>();
        services.AddScoped<CredentialOffers>();
        services.AddScoped<CredentialStatusLists>();
        services.AddScoped<CredentialIssuance>();
        services.AddSingleton<Status.StatusListTokens>();
        services.AddSingleton<TrustedCredentialKeys>();
        services.AddSingleton<CredentialStatusCheck>();
        services.AddSingleton<PresentationResultToken>();
        services.AddScoped<VerifierClientAuthentication>();
        services.AddScoped<PresentationVerifier>();
        services.AddScoped<PresentationRequests>();
        services.AddScoped<PresentationExchange>();
        return services;
    }
}
