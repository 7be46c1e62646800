namespace Tessera.Validation;

/// <summary>
/// Tessera's issuer as its discovery document and every token it signs spell it, worked out from the configured
/// Authority: an authority with an empty path gets its "/" (RFC 3986 §6.2.3, the spelling of every URL parser);
/// a path is kept as written. Exactly one spelling is accepted (OpenID Connect Discovery 1.0 §4.3, RFC 8417 §2.2).
/// </summary>
internal static class IssuerNames
{
    public static string[] Of(string authority) => [new Uri(authority.Trim(), UriKind.Absolute).AbsoluteUri];

    public static bool Matches(IReadOnlyList<string> names, string? issuer)
    {
        foreach (var name in names)
        {
            if (string.Equals(name, issuer, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
