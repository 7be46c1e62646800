namespace Tessera.Hosting;

/// <summary>
/// Tessera's issuer identifier, worked out once from the configured <c>Issuer</c>: the one spelling that discovery
/// publishes and that every ID, access, logout, exchanged and Security Event Token carries, since clients compare it
/// exactly (OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3, Back-Channel Logout 1.0 §2.6, RFC 8417 §2.2).
/// An authority with an empty path is written with its "/" (RFC 3986 §6.2.3: the same URL, spelled as every URL
/// parser spells it); a path is kept exactly as configured, trailing slash or not.
/// </summary>
public sealed class TesseraIssuer
{
    private readonly string _base;

    public TesseraIssuer(string configured)
    {
        Uri = new Uri(configured.Trim(), UriKind.Absolute);
        Name = Uri.AbsoluteUri;
        _base = Name.TrimEnd('/');
        PathBase = Uri.AbsolutePath.TrimEnd('/');
    }

    public Uri Uri { get; }

    /// <summary>The issuer identifier, as discovery names it.</summary>
    public string Name { get; }

    /// <summary>The issuer's path without its trailing slash ("" at the root): where Tessera serves its endpoints.</summary>
    public string PathBase { get; }

    /// <summary>The absolute URL of one of Tessera's own paths (<c>/token</c>, <c>/saml/x/acs</c>), under the issuer.</summary>
    public string Url(string path) => path.StartsWith('/') ? _base + path : _base + "/" + path;

    /// <summary>Two configured values that name the same issuer (a restart-only setting compares these).</summary>
    public static bool Same(string a, string b) =>
        Uri.TryCreate(a.Trim(), UriKind.Absolute, out var x) && Uri.TryCreate(b.Trim(), UriKind.Absolute, out var y)
            ? x.AbsoluteUri == y.AbsoluteUri
            : a == b;

    public override string ToString() => Name;
}
