using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>Finds the organization a person belongs to from the domain of their email address.</summary>
public sealed class HomeRealmDiscovery(TesseraConfiguration configuration)
{
    public Organization? FindByEmail(string? email) =>
        DomainOf(email) is { } domain ? configuration.Current.FindOrganizationByDomain(domain) : null;

    /// <summary>The part after the last '@' of a plausible address, or null.</summary>
    public static string? DomainOf(string? email)
    {
        if (string.IsNullOrWhiteSpace(email) || email.Length > 320)
        {
            return null;
        }

        var at = email.LastIndexOf('@');
        if (at <= 0 || at == email.Length - 1)
        {
            return null;
        }

        var domain = email[(at + 1)..].Trim().TrimEnd('.');
        return domain.Length == 0 || domain.Contains(' ', StringComparison.Ordinal) ? null : domain;
    }
}
