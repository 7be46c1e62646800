namespace Tessera.Protocol;

/// <summary>Claims Tessera adds beyond the OpenID Connect standard set.</summary>
public static class TesseraClaims
{
    /// <summary>The SSO session id (OpenID Connect Front-/Back-Channel Logout <c>sid</c>).</summary>
    public const string SessionId = "sid";

    /// <summary>The organization the user belongs to.</summary>
    public const string Organization = "org";

    /// <summary>The upstream connection the user signed in through.</summary>
    public const string Connection = "conn";
}
