using System.Text.Json.Nodes;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Status;

namespace Tessera.Credentials.Vc;

/// <summary>How strict SD-JWT VC verification is, on top of the SD-JWT rules.</summary>
public sealed record SdJwtVcVerificationPolicy
{
    public SdJwtVerificationPolicy SdJwt { get; init; } = new() { AllowedTypes = [SdJwtVcNames.Type] };

    /// <summary>When set, the credential's <c>vct</c> must be one of these.</summary>
    public IReadOnlyCollection<string>? AllowedVcts { get; init; }

    /// <summary>When true, a credential without a <c>status</c> entry is refused.</summary>
    public bool RequireStatus { get; init; }
}

/// <summary>A verified SD-JWT VC. Its status is not yet checked: the caller fetches the list at <see cref="Status"/> and asks it.</summary>
public sealed record VerifiedCredential(string Vct, string Issuer, VerifiedSdJwt SdJwt)
{
    /// <summary>Only what the holder disclosed, plus the claims that were never selectively disclosable.</summary>
    public JsonObject Claims => SdJwt.Claims;

    public StatusReference? Status { get; init; }
}

/// <summary>
/// Verifies an SD-JWT VC presentation (draft-ietf-oauth-sd-jwt-vc §3.4): the SD-JWT rules with <c>typ: dc+sd-jwt</c>,
/// <c>iss</c> the trusted issuer, <c>vct</c> present and allowed, the never-disclosable claims really in the clear,
/// and a well-formed <c>status</c>.
/// </summary>
public sealed class SdJwtVcVerifier(TimeProvider time)
{
    public async Task<CredentialResult<VerifiedCredential>> VerifyAsync(string presentation, SdJwtIssuerTrust trust, SdJwtVcVerificationPolicy policy, KeyBindingExpectation? keyBinding)
    {
        ArgumentNullException.ThrowIfNull(trust);
        if (trust.Issuer is null)
        {
            throw new ArgumentException("An SD-JWT VC is verified against a named issuer.", nameof(trust));
        }

        var verified = await new SdJwtVerifier(time).VerifyAsync(presentation, trust, policy.SdJwt, keyBinding).ConfigureAwait(false);
        if (!verified.Succeeded)
        {
            return verified.Failure!;
        }

        var sdJwt = verified.Value!;
        if (sdJwt.Disclosed.FirstOrDefault(d => d.Path.Segments.Count == 1 && SdJwtVcNames.NeverDisclosable.Contains(d.Disclosure.ClaimName ?? "")) is not null)
        {
            return CredentialResult<VerifiedCredential>.Fail(CredentialError.NotSelectivelyDisclosable, "A claim that an SD-JWT VC keeps in the clear arrived through a disclosure.");
        }

        if (CompactJws.ReadString(sdJwt.Claims, SdJwtVcNames.Vct) is not { } vct)
        {
            return CredentialResult<VerifiedCredential>.Fail(CredentialError.VctMissing, "The credential has no vct.");
        }

        if (policy.AllowedVcts is not null && !policy.AllowedVcts.Contains(vct, StringComparer.Ordinal))
        {
            return CredentialResult<VerifiedCredential>.Fail(CredentialError.VctNotAllowed, "The credential's vct is not one this verifier accepts.");
        }

        var status = StatusReference.Read(sdJwt.Claims);
        if (status is { Succeeded: false })
        {
            return status.Failure!;
        }

        if (status is null && policy.RequireStatus)
        {
            return CredentialResult<VerifiedCredential>.Fail(CredentialError.StatusMalformed, "The credential has no status entry, and this verifier requires one.");
        }

        return CredentialResult<VerifiedCredential>.Success(new VerifiedCredential(vct, trust.Issuer, sdJwt) { Status = status?.Value });
    }
}
