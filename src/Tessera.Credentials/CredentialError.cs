namespace Tessera.Credentials;

/// <summary>
/// Why a credential, presentation, status list or query was refused. Each value names one rule; the description that
/// travels with it (<see cref="CredentialFailure"/>) is safe to show and to log: it never quotes a claim value.
/// </summary>
public enum CredentialError
{
    // The compact serialization and its parts.
    TooLarge,
    Malformed,
    PayloadMalformed,

    // The issuer-signed JWT.
    AlgorithmNotAllowed,
    TypeNotAllowed,
    SignatureInvalid,
    IssuerMismatch,
    Expired,
    NotYetValid,

    // Disclosures (RFC 9901 §7.1).
    DigestAlgorithmUnsupported,
    DisclosureMalformed,
    DisclosureDuplicated,
    DisclosureUnreferenced,
    DigestReferencedTwice,
    DisclosureReservedName,
    DisclosureClaimCollision,
    DisclosureShapeMismatch,
    NestingTooDeep,

    // Key binding (RFC 9901 §4.3, §7.3).
    KeyBindingMissing,
    KeyBindingUnexpected,
    HolderKeyMissing,
    HolderKeyInvalid,
    KeyBindingMalformed,
    KeyBindingTypeInvalid,
    KeyBindingAlgorithmNotAllowed,
    KeyBindingSignatureInvalid,
    KeyBindingAudienceMismatch,
    KeyBindingNonceMismatch,
    KeyBindingStale,
    KeyBindingSdHashMismatch,

    // Issuing: a request the issuer itself got wrong.
    ReservedClaimName,
    DisclosablePathNotFound,
    NotSelectivelyDisclosable,

    // SD-JWT VC.
    VctMissing,
    VctNotAllowed,
    IssuerKeyInvalid,
    StatusMalformed,

    // Token Status List.
    StatusListTokenMalformed,
    StatusListSubjectMismatch,
    StatusListBitsInvalid,
    StatusListCompressionInvalid,
    StatusIndexOutOfRange,

    // DCQL.
    QueryMalformed,
    QueryNotSatisfied,
}

/// <summary>The rule that failed and a description safe to show and to log.</summary>
public sealed record CredentialFailure(CredentialError Error, string Description)
{
    public override string ToString() => $"{Error}: {Description}";
}

/// <summary>Either a value or the rule that refused the input; bad input never surfaces as an exception.</summary>
public sealed record CredentialResult<T>(T? Value, CredentialFailure? Failure) where T : class
{
    public bool Succeeded => Failure is null;

    /// <summary>The rule that failed, or null on success.</summary>
    public CredentialError? Error => Failure?.Error;

    public static CredentialResult<T> Success(T value) => new(value, null);

    public static CredentialResult<T> Fail(CredentialError error, string description) => new(null, new CredentialFailure(error, description));

    public static CredentialResult<T> Fail(CredentialFailure failure) => new(null, failure);

    public static implicit operator CredentialResult<T>(CredentialFailure failure) => Fail(failure);
}
