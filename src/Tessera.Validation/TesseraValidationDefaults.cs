namespace Tessera.Validation;

/// <summary>Names the library registers.</summary>
public static class TesseraValidationDefaults
{
    /// <summary>The authentication scheme, made the default scheme.</summary>
    public const string AuthenticationScheme = "Tessera";

    /// <summary>The configuration section <see cref="TesseraValidationServiceCollectionExtensions.AddTesseraValidation(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/> reads in samples.</summary>
    public const string ConfigurationSection = "Tessera";
}
