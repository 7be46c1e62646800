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

    /// <summary>RFC 8693 §4.1: the party acting for the subject of an exchanged token.</summary>
    public const string Actor = "act";

    /// <summary>RFC 8693 §4.4: who may act for the subject.</summary>
    public const string MayAct = "may_act";
}
