namespace Tessera.Hosting;

/// <summary>A foreign issuer whose tokens Tessera verifies and exchanges: where its keys are and what its tokens must say.</summary>
public sealed class TrustedIssuerOptions
{
    public string Id { get; set; } = "";

    /// <summary>The exact <c>iss</c> of its tokens.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The organization its subjects belong to.</summary>
    public string Organization { get; set; } = "";

    /// <summary>
    /// A connection of that organization whose users these subjects are (the same upstream subject ids): an exchange
    /// then maps to the user who signs in through it. Unset: the issuer keeps its own users, keyed by its Id.
    /// </summary>
    public string? Connection { get; set; }

    /// <summary>The issuer's key set. Unset: taken from its OpenID Connect discovery document.</summary>
    public string? JwksUri { get; set; }

    /// <summary>Asymmetric JOSE algorithms accepted from this issuer; default RS256 and ES256.</summary>
    public List<string> AllowedAlgorithms { get; set; } = [];

    /// <summary>Its tokens must name one of these in <c>aud</c>.</summary>
    public List<string> Audiences { get; set; } = [];

    /// <summary>The claim that identifies the subject, for example <c>ext_user_id</c>; default <c>sub</c>.</summary>
    public string SubjectClaim { get; set; } = "sub";

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Claims of the foreign token copied into Tessera's tokens under Tessera's name.</summary>
    public List<ClaimMappingOptions> ClaimMappings { get; set; } = [];

    /// <summary>Grants from the foreign token's claims, applied after the organization's own Rules.</summary>
    public List<RuleOptions> Rules { get; set; } = [];

    public IssuerKeyOptions Keys { get; set; } = new();
}

public sealed class ClaimMappingOptions
{
    /// <summary>The claim's name in the foreign token.</summary>
    public string From { get; set; } = "";

    /// <summary>Its name in Tessera's tokens.</summary>
    public string Claim { get; set; } = "";
}

/// <summary>How a trusted issuer's key set is cached.</summary>
public sealed class IssuerKeyOptions
{
    /// <summary>A token with an unknown <c>kid</c> refreshes the key set at most once per interval.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>While the key endpoint fails, keys fetched before keep working this long after the last success.</summary>
    public TimeSpan StaleLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Bounds on the cache lifetime the issuer's Cache-Control asks for, and the lifetime when it says nothing.</summary>
    public TimeSpan MinCacheDuration { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan MaxCacheDuration { get; set; } = TimeSpan.FromHours(24);
    public TimeSpan DefaultCacheDuration { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// What one client may obtain by token exchange: from subject tokens of which issuers, for which audiences, with
/// which scopes at most, for how long at most, and whether as a delegate (with <c>act</c>) or by impersonation.
/// </summary>
public sealed class ExchangePolicyOptions
{
    /// <summary>Optional name of the policy, unique among policies; the Admin API names policies by it.</summary>
    public string? Id { get; set; }

    public string ClientId { get; set; } = "";

    /// <summary>Trusted issuer ids, SAML connection ids, or <c>tessera</c> for Tessera's own access and ID tokens.</summary>
    public List<string> SubjectIssuers { get; set; } = [];

    /// <summary>
    /// Configured presentations (<c>Presentations</c> ids) whose verified SD-JWT VC presentation may be the subject
    /// token (type <c>urn:tessera:token-type:dc+sd-jwt</c>); the result carries the pairwise holder subject and only
    /// the disclosed claims, and names no user.
    /// </summary>
    public List<string> Presentations { get; set; } = [];

    /// <summary>Where actor tokens may come from (same kinds of ids); default: the subject issuers.</summary>
    public List<string> ActorIssuers { get; set; } = [];

    /// <summary>The audiences (resources) the result may be for; it is always for one of these.</summary>
    public List<string> Audiences { get; set; } = [];

    /// <summary>The scope ceiling: the result carries only scopes listed here and requested (or all of them when none are).</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The longest the result may live; it also never outlives the subject token unless <see cref="OutliveSubjectToken"/>.</summary>
    public TimeSpan? MaxLifetime { get; set; }

    public bool OutliveSubjectToken { get; set; }

    /// <summary>An actor token may be presented; the result names the actor in <c>act</c>.</summary>
    public bool Delegation { get; set; }

    /// <summary>A request without an actor token yields a token for the subject with no <c>act</c>.</summary>
    public bool Impersonation { get; set; }

    /// <summary>A subject no user is linked to yet becomes a new user; otherwise it is refused.</summary>
    public bool JustInTimeUsers { get; set; }

    /// <summary>The client may ask for an ID token (requested_token_type id_token).</summary>
    public bool IdTokens { get; set; }
}
