namespace Tessera.Validation;

/// <summary>
/// The spellings of Tessera's issuer that are the same URL: an authority with an empty path is the same with or
/// without the trailing slash (RFC 3986 §6.2.3), and issuers differ in which one they write in <c>iss</c>.
/// </summary>
internal static class IssuerNames
{
    public static string[] Of(string authority)
    {
        var uri = new Uri(authority);
        var bare = authority.TrimEnd('/');
        return uri.AbsolutePath == "/" ? [bare, bare + "/"] : [authority];
    }

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
