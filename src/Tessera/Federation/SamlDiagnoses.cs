using Tessera.Saml;

namespace Tessera.Federation;

/// <summary>
/// What an administrator needs to fix a SAML connection, for each rule Tessera.Saml refuses a Response by. Hints
/// name the field an IdP admin edits (Audience URI / SP Entity ID, ACS URL / Single sign-on URL, signing
/// certificate) and the value it must hold.
/// </summary>
internal static class SamlDiagnoses
{
    /// <param name="metadataUrl">Where Tessera publishes this connection's SP metadata, which carries all the values the IdP needs.</param>
    public static UpstreamDiagnosis For(SamlFailure failure, SamlServiceProvider sp, SamlPolicy policy, string metadataUrl)
    {
        var acs = sp.AssertionConsumerServiceUrl.AbsoluteUri;
        var diagnosis = failure.Rule switch
        {
            SamlRules.Audience => new UpstreamDiagnosis(UpstreamChecks.Audience, "The assertion is meant for another service provider: its Audience is not this connection's SP entity ID.",
                $"In your identity provider, set the Audience URI (SP Entity ID) of this application to {sp.EntityId}."),
            SamlRules.Destination => new UpstreamDiagnosis(UpstreamChecks.Destination, "The Response is addressed to another URL than this connection's assertion consumer service (Destination).",
                $"In your identity provider, set the ACS URL (Single sign-on URL, Reply URL) of this application to {acs}."),
            SamlRules.Recipient => new UpstreamDiagnosis(UpstreamChecks.Destination, "The assertion's Recipient is not this connection's assertion consumer service.",
                $"In your identity provider, set the ACS URL (Single sign-on URL, Recipient URL) of this application to {acs}."),
            SamlRules.Issuer => new UpstreamDiagnosis(UpstreamChecks.Issuer, "The Response names a different identity provider (Issuer) than the one this connection trusts.",
                $"Update this connection in Tessera with your identity provider's current metadata (or set its EntityId to the issuer your IdP sends), "
                + $"or set the Issuer (IdP Entity ID) of your identity provider back to {failure.Expected}."),
            SamlRules.SignatureInvalid => Signature(failure),
            SamlRules.SignatureMissing => new UpstreamDiagnosis(UpstreamChecks.Signature,
                policy.RequireSignedAssertions ? "The assertion is not signed, and this connection requires signed assertions." : "Neither the Response nor the assertion is signed.",
                policy.RequireSignedAssertions
                    ? "In your identity provider, sign the assertion (Assertion Signature: signed, or sign Response and Assertion) for this application."
                    : "In your identity provider, sign the Response or the assertion for this application."),
            SamlRules.SignatureReference or SamlRules.SignatureTransform or SamlRules.DuplicateId => new UpstreamDiagnosis(UpstreamChecks.Signature,
                "The signature is not in the form Tessera accepts.",
                "Use your identity provider's standard SAML signing: one enveloped signature on the signed element, with exclusive canonicalization."),
            SamlRules.SignatureAlgorithm or SamlRules.DigestAlgorithm => new UpstreamDiagnosis(UpstreamChecks.SignatureAlgorithm,
                "The identity provider signs with an algorithm this connection does not accept.",
                "In your identity provider, set the signature algorithm of this application to RSA-SHA256 (digest SHA-256)."),
            SamlRules.NotYetValid or SamlRules.Expired or SamlRules.SubjectConfirmationExpired or SamlRules.SessionExpired =>
                ClockDiagnosis.For(failure.Rule == SamlRules.SessionExpired ? "session" : "assertion", failure.Rule == SamlRules.NotYetValid, failure.ClockOffset, policy.ClockSkew, failure.Expected, failure.Received),
            SamlRules.Status => new UpstreamDiagnosis(UpstreamChecks.UpstreamError, "The identity provider answered that it did not sign the user in.",
                "Its status says why. Check that the user is assigned to this application in your identity provider and can sign in there."),
            SamlRules.InResponseTo => new UpstreamDiagnosis(UpstreamChecks.InResponseTo, "The Response does not answer the request Tessera sent for this sign-in (InResponseTo).",
                "Start the test again from Tessera, in one browser tab. If it still fails, check that your identity provider answers the AuthnRequest it received rather than starting a new sign-in."),
            SamlRules.Unsolicited => new UpstreamDiagnosis(UpstreamChecks.Unsolicited, "The sign-in was started at the identity provider, and this connection does not accept that.",
                "Start the sign-in from Tessera, or allow IdP-initiated sign-in on this connection (AllowIdpInitiated with IdpInitiatedClientId)."),
            SamlRules.Decryption => new UpstreamDiagnosis(UpstreamChecks.Encryption, "The encrypted assertion could not be decrypted with this connection's key.",
                $"In your identity provider, encrypt assertions to the encryption certificate in this connection's SP metadata ({metadataUrl}), or turn assertion encryption off.")
            {
                Expected = sp.DecryptionCertificate is { } certificate ? CertificateFingerprint.Sha256(certificate) : null,
            },
            SamlRules.Subject => new UpstreamDiagnosis(UpstreamChecks.Subject, "The assertion does not name the user in a form Tessera accepts.",
                "In your identity provider, send exactly one NameID in the assertion's Subject (persistent format preferred) with a bearer SubjectConfirmation."),
            SamlRules.Replay => new UpstreamDiagnosis(UpstreamChecks.Replay, "This assertion was already used.", "Start a new sign-in; an assertion is accepted once."),
            _ => new UpstreamDiagnosis(UpstreamChecks.Format, "The identity provider's answer is not a SAML 2.0 Response Tessera can read.",
                $"Configure your identity provider with this connection's SP metadata ({metadataUrl}), which names the HTTP-POST binding and the values it expects."),
        };

        return diagnosis.Check is UpstreamChecks.ClockSkew or UpstreamChecks.TokenLifetime
            ? diagnosis
            : diagnosis with { Expected = diagnosis.Expected ?? failure.Expected, Received = failure.Received };
    }

    public static UpstreamDiagnosis Metadata(string reason) =>
        new(UpstreamChecks.Metadata, "Tessera could not read the identity provider's metadata.",
            "Check the connection's MetadataUrl (reachable from Tessera, a SAML 2.0 EntityDescriptor), or its MetadataXml, or EntityId, SsoUrl and Certificates.")
        {
            Received = DiagnosisText.Printable(reason),
        };

    public static UpstreamDiagnosis RequestSigning() =>
        new(UpstreamChecks.Metadata, "The identity provider requires signed AuthnRequests and this connection has no key to sign them with.",
            "Give the connection an SP key (SpCertificate and SpPrivateKey), then upload the SP metadata to your identity provider again; or stop requiring signed requests there.");

    public static UpstreamDiagnosis NoResponse() =>
        new(UpstreamChecks.Format, "The identity provider posted no SAMLResponse.",
            "Configure your identity provider to answer with the HTTP-POST binding to this connection's ACS URL.");

    public static UpstreamDiagnosis TransientNameId() =>
        new(UpstreamChecks.Subject, "The identity provider sent a transient NameID, which changes at every sign-in.",
            "In your identity provider, set the NameID format of this application to persistent; or name a stable attribute in the connection's SubjectAttribute in Tessera.");

    public static UpstreamDiagnosis SubjectAttribute(string attribute, IEnumerable<string> received) =>
        new(UpstreamChecks.Subject, $"The assertion does not carry exactly one value of the attribute {attribute} that identifies the user.",
            $"In your identity provider, send the attribute {attribute} with one stable value per user, or change the connection's SubjectAttribute in Tessera.")
        {
            Expected = attribute,
            Received = DiagnosisText.Printable(received),
        };

    /// <summary>
    /// A signature that does not verify: signed with a certificate the connection does not trust (the usual case after
    /// the IdP rolled its certificate), or with a trusted one over content that changed after signing.
    /// </summary>
    private static UpstreamDiagnosis Signature(SamlFailure failure)
    {
        if (failure.Expected is null)
        {
            return new UpstreamDiagnosis(UpstreamChecks.Signature, "The Response or assertion was changed after it was signed.",
                "Make sure nothing between your identity provider and Tessera rewrites the Response (a proxy, a browser extension).");
        }

        var trusted = failure.Expected.Split(", ");
        if (failure.Received is { } received && received.Split(", ").Any(trusted.Contains))
        {
            return new UpstreamDiagnosis(UpstreamChecks.Signature, "The Response names a certificate this connection trusts, but its signature does not verify.",
                "The Response was changed after it was signed: make sure nothing between your identity provider and Tessera rewrites it.");
        }

        return new UpstreamDiagnosis(UpstreamChecks.SigningCertificate, "The identity provider signed with a certificate this connection does not trust.",
            failure.Received is null
                ? "Upload your identity provider's current signing certificate to this connection in Tessera (Certificates, or refresh its metadata)."
                : $"Your identity provider signed with the certificate {failure.Received}. If that is its current signing certificate, upload it to this connection "
                  + "in Tessera (Certificates, or refresh its metadata); otherwise switch the identity provider back to the certificate Tessera trusts.");
    }
}
