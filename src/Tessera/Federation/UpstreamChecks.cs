namespace Tessera.Federation;

/// <summary>
/// The names of the checks a connection test reports (<see cref="UpstreamDiagnosis.Check"/>). They are stable: the
/// portal and whoever reads its results key on them, so a name is added, never renamed.
/// </summary>
public static class UpstreamChecks
{
    /// <summary>The IdP's clock is too far from Tessera's for its tokens or assertions to be valid now.</summary>
    public const string ClockSkew = "clock_skew";

    /// <summary>The clocks agree, but the token or assertion was already expired (or not yet valid) when it was issued.</summary>
    public const string TokenLifetime = "token_lifetime";

    public const string Audience = "audience";

    /// <summary>SAML: signed with a certificate the connection does not trust.</summary>
    public const string SigningCertificate = "signing_certificate";

    /// <summary>OpenID Connect: signed with a key the IdP's JWKS does not publish, or that does not verify.</summary>
    public const string SigningKey = "signing_key";

    /// <summary>Unsigned, or a signature that does not cover what it must or was altered after signing.</summary>
    public const string Signature = "signature";

    public const string SignatureAlgorithm = "signature_algorithm";

    public const string Issuer = "issuer";

    /// <summary>SAML: the Response's Destination or the assertion's Recipient is not the connection's ACS URL.</summary>
    public const string Destination = "destination";

    public const string RedirectUri = "redirect_uri";

    /// <summary>The IdP's token endpoint refused Tessera's client credentials (invalid_client).</summary>
    public const string ClientAuthentication = "client_authentication";

    /// <summary>The IdP's token endpoint refused to redeem the code for another reason.</summary>
    public const string TokenRequest = "token_request";

    public const string MissingEmail = "missing_email";

    public const string UnverifiedEmail = "unverified_email";

    public const string Nonce = "nonce";

    public const string InResponseTo = "in_response_to";

    /// <summary>SAML: an IdP-initiated response to a connection that does not accept them.</summary>
    public const string Unsolicited = "unsolicited";

    /// <summary>The IdP answered with an error (OAuth <c>error</c>, or a SAML status other than Success).</summary>
    public const string UpstreamError = "upstream_error";

    /// <summary>Discovery, JWKS or SAML metadata could not be fetched or is unusable.</summary>
    public const string Metadata = "metadata";

    /// <summary>The user could not be identified: no subject, a transient NameID, a missing subject attribute.</summary>
    public const string Subject = "subject";

    /// <summary>The IdP's userinfo endpoint did not answer with the user's claims.</summary>
    public const string UserInfo = "userinfo";

    /// <summary>SAML: an encrypted assertion Tessera cannot decrypt.</summary>
    public const string Encryption = "encryption";

    /// <summary>The answer is malformed: not base64, not XML, not a Response, not a JWT, too large.</summary>
    public const string Format = "format";

    /// <summary>The same assertion was presented twice.</summary>
    public const string Replay = "replay";
}
