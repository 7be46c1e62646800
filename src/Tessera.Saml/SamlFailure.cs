namespace Tessera.Saml;

/// <summary>
/// The rule a SAML message broke, by name, and a description safe to show and to log. Where the rule compares the
/// message with what the connection expects, the two values are kept too, for the administrator who configures it.
/// </summary>
public sealed record SamlFailure(string Rule, string Description)
{
    /// <summary>What the connection expects: the SP entity id, the ACS URL, the IdP entity id, trusted certificate fingerprints.</summary>
    public string? Expected { get; init; }

    /// <summary>What the message said instead, as written (bounded), or null when it said nothing.</summary>
    public string? Received { get; init; }

    /// <summary>For a time rule: the IdP's clock minus this validator's clock, measured from the message's IssueInstant.</summary>
    public TimeSpan? ClockOffset { get; init; }

    public override string ToString() => $"{Rule}: {Description}";
}

/// <summary>The names of the rules a Response is checked against; each failure names exactly one.</summary>
public static class SamlRules
{
    public const string Size = "size";
    public const string Base64 = "base64";
    public const string Malformed = "malformed";
    public const string Dtd = "dtd";
    public const string NotAResponse = "not_a_response";
    public const string Version = "version";
    public const string Status = "status";
    public const string Destination = "destination";
    public const string Issuer = "issuer";
    public const string InResponseTo = "in_response_to";
    public const string Unsolicited = "unsolicited";
    public const string AssertionCount = "assertion_count";
    public const string Decryption = "decryption";
    public const string SignatureMissing = "signature_missing";
    public const string SignatureInvalid = "signature_invalid";
    public const string SignatureReference = "signature_reference";
    public const string SignatureTransform = "signature_transform";
    public const string SignatureAlgorithm = "signature_algorithm";
    public const string DigestAlgorithm = "digest_algorithm";
    public const string DuplicateId = "duplicate_id";
    public const string Subject = "subject";
    public const string Recipient = "recipient";
    public const string SubjectConfirmationExpired = "subject_confirmation_expired";
    public const string NotYetValid = "not_yet_valid";
    public const string Expired = "expired";
    public const string Audience = "audience";
    public const string AuthnStatement = "authn_statement";
    public const string SessionExpired = "session_expired";
    public const string Replay = "replay";
}

/// <summary>Either a validated assertion or the rule that failed.</summary>
public sealed record SamlResult(SamlAssertion? Assertion, SamlFailure? Failure)
{
    public bool Succeeded => Assertion is not null;

    public static SamlResult Success(SamlAssertion assertion) => new(assertion, null);

    public static SamlResult Fail(string rule, string description) => new(null, new SamlFailure(rule, description));
}
