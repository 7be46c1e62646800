namespace Tessera.Federation;

/// <summary>
/// The verdict of a connection test: for a failed sign-in, the check that failed; for one that succeeded, what would
/// still bite in production (no email, so nobody provisioned over SCIM is found and apps get none; an email the IdP
/// does not vouch for, which Tessera never links by). An empty list means every check passed.
/// </summary>
public static class ConnectionTestChecks
{
    public static IReadOnlyList<UpstreamDiagnosis> Evaluate(UpstreamResult result, string protocol)
    {
        if (!result.Succeeded)
        {
            return [result.Diagnosis ?? Unexplained(result)];
        }

        var identity = result.Identity!;
        if (string.IsNullOrWhiteSpace(identity.Email))
        {
            return [MissingEmail(identity, protocol)];
        }

        // A SAML IdP vouches for the attributes it signs; only OpenID Connect says whether it verified the address.
        return protocol == OidcConnectionProtocol.ProtocolName && !identity.EmailVerified ? [UnverifiedEmail(identity)] : [];
    }

    private static UpstreamDiagnosis MissingEmail(UpstreamIdentity identity, string protocol)
    {
        if (protocol == SamlConnectionProtocol.ProtocolName)
        {
            var names = SamlConnector.ProfileAttributes["email"];
            return new UpstreamDiagnosis(UpstreamChecks.MissingEmail, "The identity provider signed the user in but sent no email address.",
                $"In your identity provider, add an attribute statement for the user's email address named {string.Join(", ", names)} "
                + "(any one of them); or map the attribute your identity provider uses to the claim email in the connection's AttributeClaims in Tessera.")
            {
                Expected = string.Join(", ", names),
                // The attribute names the IdP sent (never their values), without the claims Tessera mapped them to.
                Received = DiagnosisText.Printable(identity.Claims.Keys.Except(identity.MappedClaims.Keys).Order(StringComparer.Ordinal), max: 20),
            };
        }

        return new UpstreamDiagnosis(UpstreamChecks.MissingEmail, "The identity provider signed the user in but sent no email claim.",
            "Add the scope email to the connection's Scopes in Tessera, and allow your identity provider to release the email claim to this application "
            + "(in the ID token or from its userinfo endpoint).")
        {
            Expected = "email",
        };
    }

    private static UpstreamDiagnosis UnverifiedEmail(UpstreamIdentity identity)
    {
        var claimed = identity.Claims.TryGetValue("email_verified", out var values) && values.Count > 0 ? DiagnosisText.Printable(values[0]) : null;
        return new UpstreamDiagnosis(UpstreamChecks.UnverifiedEmail,
            claimed is null
                ? "The identity provider sent the user's email address without saying it verified it (no email_verified)."
                : "The identity provider sent the user's email address as not verified (email_verified is not true).",
            "In your identity provider, verify the user's email address, or configure the application to send email_verified true for addresses your organization "
            + "manages. Tessera never links a sign-in to a provisioned user by an unverified address, and tells applications it is unverified.")
        {
            Expected = "true",
            Received = claimed,
        };
    }

    /// <summary>A failure its connector could say no more about: its error names the rule, its description the reason.</summary>
    private static UpstreamDiagnosis Unexplained(UpstreamResult result) =>
        new(result.Error ?? UpstreamChecks.UpstreamError, result.Description ?? "The sign-in failed.",
            "Check this connection's settings in Tessera against the application registered for Tessera in your identity provider.");
}
