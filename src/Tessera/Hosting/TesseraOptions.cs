namespace Tessera.Hosting;

/// <summary>The <c>Tessera</c> configuration section: the contract documented in docs/configuration.md.</summary>
public sealed class TesseraOptions
{
    public const string SectionName = "Tessera";

    public string Issuer { get; set; } = "";
    public StorageOptions Storage { get; set; } = new();
    public KeyOptions Keys { get; set; } = new();
    public TokenLifetimeOptions Tokens { get; set; } = new();
    public SessionOptions Sessions { get; set; } = new();
    public List<ClientOptions> Clients { get; set; } = [];
    public List<OrganizationOptions> Organizations { get; set; } = [];

    /// <summary>Foreign token issuers whose JWTs may be exchanged for Tessera tokens (RFC 8693).</summary>
    public List<TrustedIssuerOptions> TrustedIssuers { get; set; } = [];

    /// <summary>Which client may exchange which subject tokens into which audiences and scopes.</summary>
    public List<ExchangePolicyOptions> ExchangePolicies { get; set; } = [];

    /// <summary>Who hears about ended sessions and disabled accounts: Security Event Token receivers, and how delivery retries.</summary>
    public SignalOptions Signals { get; set; } = new();

    /// <summary>Which networks Tessera's fetches from customer-configured URLs may reach.</summary>
    public NetworkOptions Network { get; set; } = new();

    /// <summary>How much of a request each endpoint reads before refusing it with its protocol's error.</summary>
    public RequestLimitOptions RequestLimits { get; set; } = new();

    /// <summary>The self-service setup portal that a customer's IT admin opens through a setup link.</summary>
    public PortalOptions Portal { get; set; } = new();

    /// <summary>Anomaly detection at sign-in (impossible travel, two countries, a new country) and its responses.</summary>
    public AnomalyOptions Anomaly { get; set; } = new();

    /// <summary>Signed checkpoints of the audit chain, how long audit rows are kept, and where they are streamed.</summary>
    public AuditOptions Audit { get; set; } = new();

    /// <summary>What Tessera exports besides what the standard <c>OTEL_*</c> variables configure. Restart-only.</summary>
    public TelemetryOptions Telemetry { get; set; } = new();

    /// <summary>SD-JWT VCs Tessera issues over OpenID4VCI (docs/credentials.md).</summary>
    public List<Tessera.Credentials.CredentialOptions> Credentials { get; set; } = [];

    /// <summary>Credential issuers whose SD-JWT VCs Tessera accepts in OpenID4VP presentations.</summary>
    public List<Tessera.Credentials.TrustedCredentialIssuerOptions> TrustedCredentialIssuers { get; set; } = [];

    /// <summary>Presentations apps may ask Tessera to verify over OpenID4VP (docs/credentials.md).</summary>
    public List<Tessera.Credentials.PresentationOptions> Presentations { get; set; } = [];

    public DevelopmentOptions Development { get; set; } = new();
}

/// <summary>Setup links and the portal sessions they open.</summary>
public sealed class PortalOptions
{
    /// <summary>How long a setup link can be opened (it can be opened once).</summary>
    public TimeSpan SetupLinkLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A portal session left alone this long ends.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A portal session ends this long after its link was opened, however busy.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}

/// <summary>
/// The audit log's signed checkpoints (signed heads of the hash chain, published at <c>/audit/checkpoints</c>) and its
/// retention. A checkpoint is made when <see cref="CheckpointEvery"/> rows were added since the last one, or when
/// <see cref="CheckpointInterval"/> has passed and any row was added.
/// </summary>
public sealed class AuditOptions
{
    public int CheckpointEvery { get; set; } = 1000;

    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long rows are kept; unset keeps them forever. Older rows are removed only up to the newest checkpoint made
    /// before the cut, so that the rows kept still verify from that checkpoint.
    /// </summary>
    public TimeSpan? Retention { get; set; }

    /// <summary>SIEMs (or any HTTP collector) the audit log is streamed to, in order, as it is written.</summary>
    public List<AuditStreamOptions> Streams { get; set; } = [];
}

/// <summary>
/// One destination the audit log is streamed to: rows in id order, posted in batches of newline-delimited JSON, each
/// batch resent unchanged (with the same <c>Idempotency-Key</c>) until it is acknowledged with a 2xx.
/// </summary>
public sealed class AuditStreamOptions
{
    public const string FromBeginning = "beginning";
    public const string FromNow = "now";

    public string Id { get; set; } = "";

    /// <summary>The URL batches are posted to: https, or http on loopback.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The <c>Authorization</c> header value sent with every batch (usually <c>env:NAME</c>).</summary>
    public string? Authorization { get; set; }

    /// <summary><c>jsonl</c> (every column, enough to recompute the chain) or <c>ocsf</c> (OCSF 1.3 events).</summary>
    public string Format { get; set; } = "jsonl";

    /// <summary>Only these events (<c>signin.succeeded</c>) or families of events (<c>signin.*</c>); default every event.</summary>
    public List<string> Events { get; set; } = [];

    /// <summary>Rows per batch at most.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How long one batch may take to be acknowledged before it is sent again.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between attempts at a batch the destination keeps refusing.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Where a new stream starts: <c>beginning</c> (every row kept, the default) or <c>now</c> (rows written from its first start on).</summary>
    public string From { get; set; } = FromBeginning;
}

public sealed class StorageOptions
{
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;
    public string ConnectionString { get; set; } = "Data Source=data/tessera.db";
    public bool ApplyMigrations { get; set; } = true;
}

public enum StorageProvider
{
    Sqlite,
    Postgres,
}

public sealed class KeyOptions
{
    /// <summary>Base64 of 32 random bytes; encrypts signing keys at rest. Usually <c>env:TESSERA_KEY_ENCRYPTION_KEY</c>.</summary>
    public string EncryptionKey { get; set; } = "";

    /// <summary>How long a signing key signs before its successor takes over.</summary>
    public TimeSpan RotationPeriod { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long a new key sits in the JWKS before it signs anything, so caches pick it up first.</summary>
    public TimeSpan PrePublication { get; set; } = TimeSpan.FromDays(2);
}

public sealed class TokenLifetimeOptions
{
    public TimeSpan AccessToken { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan IdentityToken { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan AuthorizationCode { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan RefreshToken { get; set; } = TimeSpan.FromDays(14);
}

public sealed class SessionOptions
{
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromHours(8);
    public TimeSpan AbsoluteLifetime { get; set; } = TimeSpan.FromHours(24);
    public string CookieName { get; set; } = "tessera.session";
}

public sealed class ClientOptions
{
    public string ClientId { get; set; } = "";
    public string? DisplayName { get; set; }

    /// <summary><c>public</c> or <c>confidential</c>.</summary>
    public string Type { get; set; } = "";

    public string? ClientSecret { get; set; }
    public List<string> RedirectUris { get; set; } = [];
    public List<string> PostLogoutRedirectUris { get; set; } = [];
    public List<string> GrantTypes { get; set; } = [];
    public List<string> Scopes { get; set; } = [];
    public List<string> Audiences { get; set; } = [];
    public string? BackchannelLogoutUri { get; set; }

    /// <summary>Inline JSON Web Key Set (public keys) for <c>private_key_jwt</c> client authentication.</summary>
    [InlineJson]
    public string? Jwks { get; set; }

    /// <summary><c>ES256</c> (default) or <c>RS256</c>: the algorithm of tokens issued to this client.</summary>
    public string SigningAlgorithm { get; set; } = "ES256";

    public TimeSpan? AccessTokenLifetime { get; set; }
}

public sealed class OrganizationOptions
{
    public string Id { get; set; } = "";
    public string? DisplayName { get; set; }
    public List<string> Domains { get; set; } = [];
    public List<ConnectionOptions> Connections { get; set; } = [];
    public List<RuleOptions> Rules { get; set; } = [];
    public ScimOptions Scim { get; set; } = new();

    /// <summary>The organization's own anomaly rules and exempt networks.</summary>
    public OrganizationAnomalyOptions Anomaly { get; set; } = new();
}

/// <summary>The organization's SCIM 2.0 service (<c>/scim/v2/{organization}</c>) and how provisioned users meet sign-ins.</summary>
public sealed class ScimOptions
{
    public const string MatchEmail = "email";
    public const string MatchExternalId = "externalId";

    /// <summary>
    /// Bearer tokens of the service (usually <c>env:NAME</c>), besides those made with <c>tessera scim token create</c>.
    /// Several may be active at once, for rotation.
    /// </summary>
    public List<string> Tokens { get; set; } = [];

    /// <summary>
    /// How a sign-in finds the provisioned user it is: <c>email</c> (the default: <c>userName</c> or the primary email
    /// equals the signed-in email) or <c>externalId</c> (<c>externalId</c> equals the upstream subject, <c>sub</c> or NameID).
    /// </summary>
    public string Match { get; set; } = MatchEmail;

    /// <summary>Only people the SCIM client provisioned (and has not deactivated) may sign in.</summary>
    public bool RequireProvisioning { get; set; }
}

public sealed class ConnectionOptions
{
    public string Id { get; set; } = "";
    public string? DisplayName { get; set; }

    /// <summary><c>oidc</c> (OpenID Connect) or <c>saml2</c> (SAML 2.0 Web Browser SSO).</summary>
    public string Protocol { get; set; } = "";

    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public List<string> Scopes { get; set; } = [];

    /// <summary><c>client_secret_basic</c> (default) or <c>client_secret_post</c>, how Tessera authenticates upstream.</summary>
    public string ClientAuthentication { get; set; } = "client_secret_basic";

    /// <summary>
    /// Signature algorithms accepted upstream: JOSE names on ID tokens (asymmetric only) for <c>oidc</c>; for
    /// <c>saml2</c> RSA-SHA256, RSA-SHA384, RSA-SHA512, ECDSA-SHA256 (the default) and RSA-SHA1 with <see cref="AllowSha1"/>.
    /// </summary>
    public List<string> AllowedAlgorithms { get; set; } = [];

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Upstream ID-token claim (NumericDate) that says when the upstream session ends, if the IdP sends one.</summary>
    public string? SessionExpiryClaim { get; set; }

    /// <summary>Upper bound for sessions made through this connection, below the global session lifetime.</summary>
    public TimeSpan? MaxSessionLifetime { get; set; }

    // SAML 2.0 (Protocol "saml2"). The IdP comes from MetadataXml, MetadataUrl, or EntityId + SsoUrl + Certificates.

    public string? MetadataXml { get; set; }
    public string? MetadataUrl { get; set; }
    public TimeSpan MetadataRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>When set, IdP metadata must carry a valid signature by one of these certificates (PEM or base64 DER).</summary>
    public List<string> MetadataSigningCertificates { get; set; } = [];

    public string? EntityId { get; set; }
    public string? SsoUrl { get; set; }

    /// <summary>The IdP's signing certificates (PEM or base64 DER); several during a rollover.</summary>
    public List<string> Certificates { get; set; } = [];

    /// <summary>Tessera's entity id towards this IdP; default <c>{Issuer}/saml/{Id}</c>.</summary>
    public string? SpEntityId { get; set; }

    /// <summary>The assertion consumer service URL the IdP posts to; default <c>{Issuer}/saml/{Id}/acs</c>.</summary>
    public string? AcsUrl { get; set; }

    /// <summary><c>persistent</c> (default), <c>transient</c>, <c>emailAddress</c>, <c>unspecified</c> or a NameID format URN.</summary>
    public string NameIdFormat { get; set; } = "persistent";

    /// <summary>The assertion itself must be signed (default); when false a signed Response covering it suffices.</summary>
    public bool RequireSignedAssertions { get; set; } = true;

    /// <summary>Accept SHA-1 signatures and digests (with RSA-SHA1 in AllowedAlgorithms). Off by default.</summary>
    public bool AllowSha1 { get; set; }

    /// <summary>Tessera's certificate and private key (PEM) for this connection: signs AuthnRequests, decrypts assertions.</summary>
    public string? SpCertificate { get; set; }
    public string? SpPrivateKey { get; set; }

    /// <summary>
    /// Whether AuthnRequests are signed. Unset: signed whenever the connection has an SP key. True: the key is
    /// required. False: never, which an IdP whose metadata says WantAuthnRequestsSigned refuses.
    /// </summary>
    public bool? SignAuthnRequests { get; set; }

    /// <summary>An attribute whose value keys the user instead of the NameID (required with transient NameIDs).</summary>
    public string? SubjectAttribute { get; set; }

    /// <summary>SAML attributes copied into claims; <c>email</c>, <c>name</c>, <c>given_name</c>, <c>family_name</c> fill the profile.</summary>
    public List<AttributeClaimOptions> AttributeClaims { get; set; } = [];

    /// <summary>Accept IdP-initiated responses; the login then lands only on <see cref="IdpInitiatedClientId"/>.</summary>
    public bool AllowIdpInitiated { get; set; }
    public string? IdpInitiatedClientId { get; set; }

    /// <summary>That client's login-initiation URL (OpenID Connect Core §4), sent <c>iss</c> after an IdP-initiated sign-in.</summary>
    public string? IdpInitiatedLoginUri { get; set; }
}

public sealed class AttributeClaimOptions
{
    public string Attribute { get; set; } = "";
    public string Claim { get; set; } = "";
}

public sealed class RuleOptions
{
    /// <summary>Optional name of the rule, unique in its organization; the Admin API and the portal name rules by it.</summary>
    public string? Id { get; set; }

    /// <summary>Every condition must hold: claim name to expected value. A multi-valued claim matches when any value does.</summary>
    public Dictionary<string, string> When { get; set; } = new(StringComparer.Ordinal);

    public GrantOptions Grant { get; set; } = new();
}

public sealed class GrantOptions
{
    public List<string> Scopes { get; set; } = [];
    public Dictionary<string, string> Claims { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Delivery of revocation signals: back-channel logout tokens to clients with a <c>BackchannelLogoutUri</c>, and
/// Security Event Tokens to <see cref="Receivers"/>. Every signal waits in a persistent outbox until it is acknowledged.
/// </summary>
public sealed class SignalOptions
{
    public List<SignalReceiverOptions> Receivers { get; set; } = [];

    /// <summary>How often each node looks for signals written elsewhere (another node, the command line); its own are sent at once.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one push may take before it counts as failed.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries back off from one second, doubling, up to this.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A signal not delivered this long after its event is given up (and audited as such).</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How long a poll request (RFC 8936) with <c>returnImmediately: false</c> waits for a signal before answering empty.</summary>
    public TimeSpan LongPollTimeout { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>A receiver of Security Event Tokens (an API, a SIEM).</summary>
public sealed class SignalReceiverOptions
{
    public const string Push = "push";
    public const string Poll = "poll";

    public string Id { get; set; } = "";

    /// <summary><c>push</c> (RFC 8935, the default): Tessera posts each SET to <see cref="Endpoint"/>. <c>poll</c> (RFC 8936): the receiver fetches them.</summary>
    public string Delivery { get; set; } = Push;

    /// <summary>Where SETs are pushed; required for <c>push</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>
    /// The <c>Authorization</c> header value: sent with every push, and required of every poll (usually <c>env:NAME</c>).
    /// </summary>
    public string? Authorization { get; set; }

    /// <summary>The SETs' <c>aud</c>; default the receiver's <see cref="Id"/>.</summary>
    public string? Audience { get; set; }

    /// <summary>Which events it receives: <c>session-revoked</c>, <c>account-disabled</c>, <c>account-enabled</c>; default all.</summary>
    public List<string> Events { get; set; } = [];

    /// <summary>Only events of these organizations; default every organization.</summary>
    public List<string> Organizations { get; set; } = [];

    /// <summary><c>ES256</c> (default) or <c>RS256</c>.</summary>
    public string SigningAlgorithm { get; set; } = "ES256";
}

/// <summary>Where Tessera's outbound fetches may go.</summary>
public sealed class NetworkOptions
{
    /// <summary>
    /// Let upstream fetches (OpenID Connect discovery, keys, token and userinfo; SAML metadata; trusted issuers'
    /// discovery and keys) reach loopback, private, link-local and other non-public addresses. Off by default, so
    /// that a URL an organization configures cannot turn Tessera into a probe of the network it runs in. Tests and
    /// <c>tessera demo</c>, whose identity providers listen on loopback, turn it on.
    /// </summary>
    public bool AllowPrivateUpstreams { get; set; }

    /// <summary>
    /// Proxies and load balancers (addresses or CIDR ranges) whose forwarding header is believed: a request from one
    /// of them is taken to come from the address it names. Empty: every request comes from its socket's address.
    /// Restart-only.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// Which header the trusted proxies name the client in: <c>X-Forwarded-For</c> (the default) or RFC 7239's
    /// <c>Forwarded</c>. Only that one is read; the other, which a client could have sent through, is ignored. Restart-only.
    /// </summary>
    public string ForwardedHeader { get; set; } = XForwardedFor;

    public const string XForwardedFor = "X-Forwarded-For";
    public const string Forwarded = "Forwarded";
}

/// <summary>
/// Anomaly detection at sign-in: where each sign-in comes from (GeoIP or a trusted edge's headers), compared with where
/// the same user signed in before, and what to do when the rules see something wrong.
/// </summary>
public sealed class AnomalyOptions
{
    /// <summary>A GeoIP database in MaxMind's format (.mmdb): MaxMind GeoIP2/GeoLite2 City or Country, or DB-IP's City Lite.</summary>
    public string? GeoDatabase { get; set; }

    /// <summary>More databases asked after <see cref="GeoDatabase"/> (an IPv6 file beside an IPv4 one).</summary>
    public List<string> GeoDatabases { get; set; } = [];

    /// <summary>Location headers a trusted edge sets (Cloudflare's <c>CF-IPCountry</c>, say); believed only through a trusted proxy.</summary>
    public GeoHeaderOptions GeoHeaders { get; set; } = new();

    /// <summary>The rules and what each does when it fires.</summary>
    public List<AnomalyRuleOptions> Rules { get; set; } = [];

    /// <summary>Networks (CIDR) whose sign-ins no rule looks at: a VPN's or a corporate network's egress.</summary>
    public List<string> ExemptNetworks { get; set; } = [];

    /// <summary>How many earlier sign-ins of a user the rules compare with.</summary>
    public int History { get; set; } = 10;
}

public sealed class GeoHeaderOptions
{
    /// <summary>The header carrying the ISO 3166-1 alpha-2 country, e.g. <c>CF-IPCountry</c>.</summary>
    public string? Country { get; set; }

    public string? Latitude { get; set; }

    public string? Longitude { get; set; }

    public string? City { get; set; }
}

/// <summary>One anomaly rule: which, with its settings, and the action when it fires.</summary>
public sealed class AnomalyRuleOptions
{
    public const string ImpossibleTravel = "ImpossibleTravel";
    public const string TwoCountries = "TwoCountries";
    public const string NewCountry = "NewCountry";
    public const string TokenUsedElsewhere = "TokenUsedElsewhere";
    public const string FailureBurst = "FailureBurst";

    /// <summary>
    /// <c>ImpossibleTravel</c>, <c>TwoCountries</c>, <c>NewCountry</c>, <c>TokenUsedElsewhere</c>, or <c>FailureBurst</c>
    /// (global only: failures are counted before anyone knows whose they are).
    /// </summary>
    public string Rule { get; set; } = "";

    /// <summary>
    /// <c>log</c>, <c>notify</c>, <c>challenge</c>, <c>block</c>, <c>revoke</c> or <c>disable</c>; for <c>FailureBurst</c>,
    /// <c>log</c> or <c>block</c> (a temporary lockout).
    /// </summary>
    public string Action { get; set; } = "log";

    /// <summary>ImpossibleTravel: faster than this between two sign-ins is not travel.</summary>
    public double MaxSpeedKmh { get; set; } = 1000;

    /// <summary>ImpossibleTravel: closer than this is the same place as far as city-level geolocation can tell.</summary>
    public double MinDistanceKm { get; set; } = 500;

    /// <summary>TwoCountries: two countries within this window.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// FailureBurst: failed sign-ins, <c>invalid_client</c> answers and SCIM 401s from one address (an IPv6 /64) in a
    /// minute before it is locked out; 0 counts none.
    /// </summary>
    public int MaxFailuresPerAddress { get; set; } = 10;

    /// <summary>FailureBurst: <c>invalid_client</c> answers for one client_id in a minute before it is locked out; 0 counts none.</summary>
    public int MaxFailuresPerClient { get; set; } = 20;

    /// <summary>FailureBurst: the first lockout's length; each further one within a day lasts twice the one before.</summary>
    public TimeSpan Lockout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>FailureBurst: the longest a lockout lasts however often it recurs.</summary>
    public TimeSpan MaxLockout { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>An organization's own anomaly settings: its rules instead of the global ones, and networks to exempt too.</summary>
public sealed class OrganizationAnomalyOptions
{
    /// <summary>When given, these rules replace the global <c>Anomaly.Rules</c> for the organization's users.</summary>
    public List<AnomalyRuleOptions>? Rules { get; set; }

    /// <summary>Networks exempted for this organization, besides the global ones.</summary>
    public List<string> ExemptNetworks { get; set; } = [];
}

/// <summary>Telemetry settings of Tessera's own; OpenTelemetry export itself follows the standard <c>OTEL_*</c> variables.</summary>
public sealed class TelemetryOptions
{
    /// <summary>
    /// Where to serve a Prometheus scrape endpoint (<c>/metrics</c>), each an <c>http://host:port</c> of a listener apart
    /// from the server's own. None by default: no listener is opened.
    /// </summary>
    public List<string> PrometheusUrls { get; set; } = [];
}

/// <summary>
/// Request sizes, chosen per endpoint: a body over its endpoint's limit is refused before it is parsed (413), and
/// OAuth parameters are bounded one by one (400). Restart-only: Kestrel's own ceiling is set from them at start.
/// </summary>
public sealed class RequestLimitOptions
{
    public BodyLimitOptions MaxBodyBytes { get; set; } = new();

    /// <summary>Parameters (form fields) in one request to any endpoint.</summary>
    public int MaxParameters { get; set; } = 64;

    /// <summary>Characters of one token-carrying OAuth parameter: token, assertion, client_assertion, subject_token, request, ...</summary>
    public int MaxTokenParameterLength { get; set; } = 16 * 1024;

    /// <summary>Characters of any other OAuth parameter.</summary>
    public int MaxParameterLength { get; set; } = 2 * 1024;
}

/// <summary>The largest request body, in bytes, each endpoint reads.</summary>
public sealed class BodyLimitOptions
{
    /// <summary><c>/token</c>: room for a subject token, an actor token and a client assertion at their full length.</summary>
    public int Token { get; set; } = 64 * 1024;

    public int Introspection { get; set; } = 64 * 1024;

    public int Revocation { get; set; } = 64 * 1024;

    /// <summary><c>/userinfo</c> by POST (RFC 6750 §2.2: the access token in the body).</summary>
    public int UserInfo { get; set; } = 64 * 1024;

    /// <summary><c>/authorize</c> by POST (a request object or an id_token_hint can be long).</summary>
    public int Authorization { get; set; } = 64 * 1024;

    /// <summary><c>/logout</c> by POST.</summary>
    public int EndSession { get; set; } = 64 * 1024;

    /// <summary>
    /// <c>/saml/{connectionId}/acs</c>: a SAMLResponse as large as the SAML validator parses (256 KiB of XML, about
    /// 350 KiB once base64 and form encoded), which holds an assertion with a thousand group values.
    /// </summary>
    public int SamlAcs { get; set; } = 512 * 1024;

    /// <summary><c>/signals/poll/{receiver}</c> (RFC 8936): acknowledgements of up to a few thousand SETs.</summary>
    public int SignalPoll { get; set; } = 256 * 1024;

    /// <summary>The SCIM service: a user, a group, or a PATCH of up to a thousand operations.</summary>
    public int Scim { get; set; } = 1024 * 1024;

    /// <summary>Any other form Tessera's pages read (sign-in, connection chooser): a handful of short fields.</summary>
    public int Pages { get; set; } = 16 * 1024;

    /// <summary>The Admin API (<c>/admin/v1</c>): a connection with its IdP's metadata XML inline.</summary>
    public int Admin { get; set; } = 1024 * 1024;

    /// <summary>The setup portal's forms (<c>/portal</c>): IdP metadata XML pasted into a form.</summary>
    public int Portal { get; set; } = 1024 * 1024;

    /// <summary>Every limit, for the server's own ceiling.</summary>
    public IEnumerable<int> All() => [Token, Introspection, Revocation, UserInfo, Authorization, EndSession, SamlAcs, SignalPoll, Scim, Pages, Admin, Portal];
}

public sealed class DevelopmentOptions
{
    /// <summary>
    /// Serve the built-in mock identity provider and the sample application. Development only:
    /// <c>tessera demo</c> turns it on, and <c>tessera serve</c> refuses a configuration that does.
    /// </summary>
    public bool Demo { get; set; }
}

/// <summary>A string setting that may be written as a nested JSON document in the file (it is kept as JSON text).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class InlineJsonAttribute : Attribute;
