using Tessera.Hosting;
using Tessera.Saml;

namespace Tessera.Federation;

/// <summary>
/// SAML 2.0 Web Browser SSO as a connector: an HTTP-Redirect AuthnRequest whose ID comes from the sign-in's nonce
/// and whose RelayState is its state, then an HTTP-POST Response to the connection's ACS, validated by
/// Tessera.Saml against the pending request. The user is keyed by the persistent NameID or a configured attribute.
/// It also takes IdP-initiated responses where the connection allows them, and verifies assertions exchanged at the
/// token endpoint (RFC 8693).
/// </summary>
public sealed partial class SamlConnector(
    SamlIdentityProviders identityProviders,
    SamlResponseValidator validator,
    DatabaseSamlReplayCache replayCache,
    TesseraIssuer tessera,
    TimeProvider time,
    ILogger<SamlConnector> logger) : IConnector, IAcceptsUnsolicitedResponses, IExchangesAssertions
{
    public const string ProtocolName = SamlConnectionProtocol.ProtocolName;

    public string TokenType => Exchange.ExchangeTokenTypes.Saml2;

    /// <summary>Well-known attribute names for the profile, used when AttributeClaims does not say otherwise.</summary>
    internal static readonly IReadOnlyDictionary<string, string[]> ProfileAttributes = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["email"] = ["email", "mail", "emailaddress", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "urn:oid:0.9.2342.19200300.100.1.3"],
        ["given_name"] = ["givenName", "given_name", "firstName", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42"],
        ["family_name"] = ["sn", "surname", "family_name", "lastName", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "urn:oid:2.5.4.4"],
        ["name"] = ["displayName", "name", "http://schemas.microsoft.com/identity/claims/displayname", "urn:oid:2.16.840.1.113730.3.1.241"],
    };

    public string Protocol => ProtocolName;

    /// <summary>The AuthnRequest ID of a sign-in: derived from its nonce, so the pending record already holds it.</summary>
    public static string RequestId(UpstreamTicket ticket) => AuthnRequestBuilder.NewId(ticket.Nonce);

    public async Task<UpstreamRedirect> BeginAsync(Connection connection, UpstreamTicket ticket, CancellationToken cancellationToken)
    {
        var (idp, error) = await identityProviders.GetAsync(connection.Options, cancellationToken);
        if (idp is null)
        {
            return CannotBegin("saml_metadata", error ?? "The identity provider's metadata is not available.", SamlDiagnoses.Metadata(error ?? ""));
        }

        var compiled = connection.Settings<SamlConnectionModel>();
        var sp = compiled.ServiceProvider;
        var request = new SamlAuthnRequest(RequestId(ticket), time.GetUtcNow()) { ForceAuthn = ticket.ForceLogin, RelayState = ticket.State };
        var sign = compiled.SignsRequests;
        if (idp.WantsSignedRequests && !sign)
        {
            return CannotBegin("saml_metadata", "The identity provider requires signed AuthnRequests and this connection does not sign them (no SP key).",
                SamlDiagnoses.RequestSigning());
        }

        return UpstreamRedirect.To(AuthnRequestBuilder.RedirectUrl(request, idp, sp, sign));
    }

    /// <summary>
    /// The HTTP-POST binding (SAML Bindings §3.5): one <c>SAMLResponse</c> and at most one <c>RelayState</c>, which is
    /// the sign-in's state. A Response arrives by no other binding here.
    /// </summary>
    public async Task<UpstreamAnswer> ReadAnswerAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return UpstreamAnswer.Malformed("invalid_request", "The assertion consumer service accepts SAML Responses by HTTP-POST only.");
        }

        var form = request.HasFormContentType ? await request.ReadFormAsync(cancellationToken) : null;
        if (form is null || form["SAMLResponse"].Count != 1 || form["RelayState"].Count > 1 || form["RelayState"].ToString().Length > 200)
        {
            return UpstreamAnswer.Malformed(SamlRules.Base64, "The answer from the identity provider is malformed.");
        }

        var answer = new Dictionary<string, string>(StringComparer.Ordinal) { ["SAMLResponse"] = form["SAMLResponse"].ToString() };
        if (form["RelayState"].ToString() is { Length: > 0 } relayState)
        {
            answer["state"] = relayState;
        }

        return UpstreamAnswer.Of(answer);
    }

    public Task<UpstreamResult> CompleteAsync(Connection connection, UpstreamTicket ticket, IReadOnlyDictionary<string, string> response, CancellationToken cancellationToken) =>
        ValidateAsync(connection, response, RequestId(ticket), cancellationToken);

    /// <summary>Validates a posted Response: <paramref name="expectedRequestId"/> null means no sign-in here is waiting for it.</summary>
    public async Task<UpstreamResult> ValidateAsync(Connection connection, IReadOnlyDictionary<string, string> response, string? expectedRequestId, CancellationToken cancellationToken)
    {
        if (!response.TryGetValue("SAMLResponse", out var samlResponse))
        {
            return Refused(SamlRules.Base64, "The identity provider's answer carries no SAMLResponse.", SamlDiagnoses.NoResponse());
        }

        var (idp, error) = await identityProviders.GetAsync(connection.Options, cancellationToken);
        if (idp is null)
        {
            return Refused("saml_metadata", error ?? "The identity provider's metadata is not available.", SamlDiagnoses.Metadata(error ?? ""));
        }

        var options = connection.Options;
        var compiled = connection.Settings<SamlConnectionModel>();
        var trust = new SamlTrust(idp, compiled.ServiceProvider, compiled.Policy);
        var result = await validator.ValidateAsync(samlResponse, trust, expectedRequestId, replayCache, cancellationToken);
        if (!result.Succeeded)
        {
            ResponseRefused(logger, connection.Id, result.Failure!.Rule, result.Failure.Description);
            return Refused(result.Failure.Rule, result.Failure.Description,
                SamlDiagnoses.For(result.Failure, compiled.ServiceProvider, compiled.Policy, tessera.Url($"/saml/{connection.Id}/metadata")));
        }

        return Identity(connection, result.Assertion!);
    }

    /// <summary>An IdP-initiated Response: validated with no request to answer, which the policy refuses unless the connection allows it.</summary>
    public Task<UpstreamResult> CompleteUnsolicitedAsync(Connection connection, IReadOnlyDictionary<string, string> response, CancellationToken cancellationToken) =>
        ValidateAsync(connection, response, expectedRequestId: null, cancellationToken);

    /// <summary>OpenID Connect Core §4: the configured client's login-initiation URL, told which issuer to start a sign-in with.</summary>
    public string? LandingUrl(Connection connection, TesseraIssuer issuer)
    {
        var options = connection.Options;
        if (!options.AllowIdpInitiated || string.IsNullOrEmpty(options.IdpInitiatedLoginUri))
        {
            return null;
        }

        var separator = options.IdpInitiatedLoginUri.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        // The issuer exactly as discovery and tokens spell it.
        return $"{options.IdpInitiatedLoginUri}{separator}iss={Uri.EscapeDataString(issuer.Name)}";
    }

    /// <summary>
    /// An assertion presented as a subject or actor token: signed by the connection's IdP, addressed to this SP or to
    /// Tessera's token endpoint, within its lifetime, used once.
    /// </summary>
    public async Task<AssertionVerification> VerifyAssertionAsync(Connection connection, string assertion, CancellationToken cancellationToken)
    {
        var (idp, error) = await identityProviders.GetAsync(connection.Options, cancellationToken);
        if (idp is null)
        {
            return AssertionVerification.NotVerified("saml_metadata", error ?? "The identity provider's metadata is not available.");
        }

        var compiled = connection.Settings<SamlConnectionModel>();
        var sp = compiled.ServiceProvider;
        var tokenEndpoint = tessera.Url("/token");
        var trust = new SamlTrust(idp, sp, compiled.Policy);
        var result = validator.ValidateAssertion(assertion, trust, [sp.EntityId, tokenEndpoint, tessera.Name], [sp.AssertionConsumerServiceUrl.AbsoluteUri, tokenEndpoint]);
        if (!result.Succeeded)
        {
            // An issuer mismatch only says that this connection's IdP did not issue it.
            return result.Failure!.Rule == SamlRules.Issuer
                ? AssertionVerification.NotVerified(null, null)
                : AssertionVerification.NotVerified(result.Failure.Rule, result.Failure.Description);
        }

        var verified = result.Assertion!;
        if (!await replayCache.TryRecordAsync(verified.Issuer, verified.Id, verified.NotOnOrAfter + trust.Policy.ClockSkew, cancellationToken))
        {
            return AssertionVerification.Refused(SamlRules.Replay, "This assertion was already used.");
        }

        var identity = Identity(connection, verified);
        return identity.Succeeded
            ? AssertionVerification.Verified(identity.Identity!, verified.Issuer, verified.NotOnOrAfter)
            : AssertionVerification.Refused(identity.Error!, identity.Description!);
    }

    /// <summary>Who a validated assertion names, with its claims: for sign-in and for token exchange alike.</summary>
    private UpstreamResult Identity(Connection connection, SamlAssertion assertion)
    {
        var options = connection.Options;
        string subject;
        if (!string.IsNullOrEmpty(options.SubjectAttribute))
        {
            if (!assertion.Attributes.TryGetValue(options.SubjectAttribute, out var values) || values.Count != 1 || string.IsNullOrWhiteSpace(values[0]))
            {
                return Refused("subject_attribute", $"The assertion must carry exactly one value of the attribute '{options.SubjectAttribute}' that identifies the user.",
                    SamlDiagnoses.SubjectAttribute(options.SubjectAttribute, assertion.Attributes.Keys));
            }

            subject = values[0];
        }
        else if (assertion.NameIdFormat == SamlNames.NameIdTransient)
        {
            // A transient NameID changes on every sign-in: keying a user by it would make a new user each time.
            return Refused("transient_name_id",
                "The identity provider sent a transient NameID and this connection names no stable attribute (SubjectAttribute) to identify the user.",
                SamlDiagnoses.TransientNameId());
        }
        else
        {
            subject = assertion.NameId;
        }

        // Rules see the raw attribute names and the claim names they map to.
        var claims = assertion.Attributes.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        var mapped = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mapping in options.AttributeClaims)
        {
            if (assertion.Attributes.TryGetValue(mapping.Attribute, out var values) && values.Count > 0)
            {
                claims[mapping.Claim] = values;
                if (!ProfileAttributes.ContainsKey(mapping.Claim))
                {
                    mapped[mapping.Claim] = string.Join(' ', values);
                }
            }
        }

        var now = time.GetUtcNow();
        return UpstreamResult.Success(new UpstreamIdentity(connection.Organization.Id, connection.Id, subject, claims)
        {
            Email = Profile(claims, "email"),
            Name = Profile(claims, "name"),
            GivenName = Profile(claims, "given_name"),
            FamilyName = Profile(claims, "family_name"),
            SessionExpiresAt = assertion.SessionNotOnOrAfter,
            AuthenticatedAt = assertion.AuthnInstant is { } instant && instant <= now ? instant : now,
            MappedClaims = mapped,
        });
    }

    private static UpstreamResult Refused(string error, string description, UpstreamDiagnosis diagnosis) =>
        UpstreamResult.Failure(error, description) with { Diagnosis = diagnosis };

    private static UpstreamRedirect CannotBegin(string error, string description, UpstreamDiagnosis diagnosis) =>
        UpstreamRedirect.Failure(error, description) with { Diagnosis = diagnosis };

    private static string? Profile(IReadOnlyDictionary<string, IReadOnlyList<string>> claims, string claim)
    {
        if (claims.TryGetValue(claim, out var mapped) && mapped.Count > 0)
        {
            return mapped[0];
        }

        return ProfileAttributes[claim].Select(name => claims.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null).FirstOrDefault(v => v is not null);
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "SAML response for connection {ConnectionId} refused by rule {Rule}: {Reason}")]
    private static partial void ResponseRefused(ILogger logger, string connectionId, string rule, string reason);
}
