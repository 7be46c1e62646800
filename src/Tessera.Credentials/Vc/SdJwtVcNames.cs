namespace Tessera.Credentials.Vc;

/// <summary>Names from draft-ietf-oauth-sd-jwt-vc (SD-JWT-based Verifiable Digital Credentials).</summary>
public static class SdJwtVcNames
{
    /// <summary>The <c>typ</c> of an SD-JWT VC's issuer-signed JWT (§3.2.1).</summary>
    public const string Type = "dc+sd-jwt";

    /// <summary>The credential type claim (§3.2.2.1.1).</summary>
    public const string Vct = "vct";

    /// <summary>
    /// Claims that are never selectively disclosable (§3.2.2.2): a verifier must be able to read who issued the
    /// credential, its type, validity, holder key and status without the holder's cooperation.
    /// </summary>
    public static readonly IReadOnlySet<string> NeverDisclosable = new HashSet<string>(StringComparer.Ordinal)
    {
        "iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status",
    };

    /// <summary>The well-known path of the JWT VC issuer metadata (§5).</summary>
    public const string IssuerMetadataPath = "/.well-known/jwt-vc-issuer";
}
