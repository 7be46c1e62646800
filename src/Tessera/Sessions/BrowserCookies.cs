using Tessera.Hosting;

namespace Tessera.Sessions;

/// <summary>
/// The cookies Tessera sets: the SSO session and the browser binding of upstream sign-ins in flight.
/// HttpOnly, SameSite=Lax, and Secure except when Tessera itself runs on a loopback http address. The binding
/// cookie is SameSite=None when Secure: a SAML IdP answers with a cross-site POST, which never carries Lax cookies.
/// </summary>
public sealed class BrowserCookies(TesseraConfiguration configuration, TesseraIssuer issuer)
{
    public const string BindingCookie = "tessera.signin";

    public string SessionCookieName => configuration.Current.Sessions.CookieName;

    public string? ReadSession(HttpContext context) => context.Request.Cookies[SessionCookieName];

    public void WriteSession(HttpContext context, string value, DateTimeOffset expires) =>
        context.Response.Cookies.Append(SessionCookieName, value, Options(expires));

    public void DeleteSession(HttpContext context) =>
        context.Response.Cookies.Delete(SessionCookieName, Options(null));

    /// <summary>One random value per browser ties every pending upstream sign-in to the browser that started it.</summary>
    public string GetOrCreateBinding(HttpContext context)
    {
        var existing = context.Request.Cookies[BindingCookie];
        if (existing is { Length: >= 32 and <= 100 })
        {
            return existing;
        }

        var value = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var options = Options(null);
        if (options.Secure)
        {
            options.SameSite = SameSiteMode.None;
        }

        context.Response.Cookies.Append(BindingCookie, value, options);
        return value;
    }

    public string? ReadBinding(HttpContext context) => context.Request.Cookies[BindingCookie];

    private CookieOptions Options(DateTimeOffset? expires)
    {
        return new CookieOptions
        {
            HttpOnly = true,
            Secure = !(issuer.Uri.Scheme == Uri.UriSchemeHttp && issuer.Uri.IsLoopback),
            SameSite = SameSiteMode.Lax,
            Path = issuer.PathBase.Length == 0 ? "/" : issuer.PathBase,
            Expires = expires,
            IsEssential = true,
        };
    }
}
