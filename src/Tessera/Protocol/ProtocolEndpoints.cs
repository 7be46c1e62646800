namespace Tessera.Protocol;

/// <summary>Where OpenIddict serves each OAuth 2.0 / OpenID Connect endpoint, relative to the issuer.</summary>
public static class ProtocolEndpoints
{
    public const string Authorization = "authorize";
    public const string Token = "token";
    public const string UserInfo = "userinfo";
    public const string Introspection = "introspect";
    public const string Revocation = "revoke";
    public const string EndSession = "logout";
    public const string JsonWebKeySet = ".well-known/jwks.json";
}
