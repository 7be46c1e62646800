using Tessera.Hosting;

namespace Tessera.Credentials;

/// <summary>
/// One credential Tessera issues (OpenID4VCI 1.0 "credential configuration"): an SD-JWT VC of one <c>vct</c>, for users
/// of the listed organizations, with claims taken from what Tessera knows of the user.
/// </summary>
public sealed class CredentialOptions
{
    public const string DefaultAlgorithm = "ES256";

    /// <summary>The credential configuration id wallets ask for; also names the credential's status list entries.</summary>
    public string Id { get; set; } = "";

    /// <summary>The credential type (<c>vct</c>): an absolute URI, unique among Tessera's credentials.</summary>
    public string Vct { get; set; } = "";

    public string? DisplayName { get; set; }

    /// <summary>Only users of these organizations may receive it.</summary>
    public List<string> Organizations { get; set; } = [];

    /// <summary>Claim name in the credential to where its value comes from.</summary>
    public Dictionary<string, CredentialClaimOptions> Claims { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Claims (by name) the holder may disclose one by one; the rest are in the clear. A derived claim's thresholds are each disclosable on their own too.</summary>
    public List<string> Disclosable { get; set; } = [];

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The OAuth scope a wallet asks for in the authorization code flow; default <c>credential:{Id}</c>.</summary>
    public string? Scope { get; set; }

    /// <summary><c>ES256</c> (default) or <c>RS256</c>: the key of the key ring that signs the credential.</summary>
    public string SigningAlgorithm { get; set; } = DefaultAlgorithm;

    public string EffectiveScope => Scope ?? $"credential:{Id}";
}

/// <summary>Where one claim of a credential comes from, and how it is derived.</summary>
public sealed class CredentialClaimOptions
{
    /// <summary>
    /// The user attribute: <c>email</c>, <c>email_verified</c>, <c>name</c>, <c>given_name</c>, <c>family_name</c>,
    /// <c>org</c>; else a SCIM attribute of the provisioned user (<c>title</c>, <c>name.givenName</c>, an extension
    /// attribute by its URN); else a claim of the user's latest upstream sign-in or of the organization's rules.
    /// </summary>
    public string From { get; set; } = "";

    /// <summary>
    /// Derives <c>{"18": true, "21": false}</c> from a date (<c>YYYY-MM-DD</c>) instead of copying it: whether the
    /// user is at least each of these ages on the day of issuance. The date itself is not in the credential.
    /// </summary>
    public List<int> Thresholds { get; set; } = [];
}

/// <summary>
/// A credential issuer whose SD-JWT VCs Tessera accepts as a verifier: which types, with which keys (its JWT VC issuer
/// metadata at <c>/.well-known/jwt-vc-issuer</c>, or given inline) and how strictly.
/// </summary>
public sealed class TrustedCredentialIssuerOptions
{
    public string Id { get; set; } = "";

    /// <summary>The exact <c>iss</c> of its credentials.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The credential types (<c>vct</c>) accepted from it.</summary>
    public List<string> Vcts { get; set; } = [];

    /// <summary>Its public keys as an inline JWK Set; unset: read from its JWT VC issuer metadata.</summary>
    [InlineJson]
    public string? Jwks { get; set; }

    /// <summary>Asymmetric JOSE algorithms accepted from this issuer; default ES256 and RS256.</summary>
    public List<string> AllowedAlgorithms { get; set; } = [];

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Refuse its credentials that carry no status list entry.</summary>
    public bool RequireStatus { get; set; } = true;

    public IssuerKeyOptions Keys { get; set; } = new();
}
