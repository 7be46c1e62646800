namespace Tessera.Credentials.SdJwt;

/// <summary>
/// The compact serialization (RFC 9901 §4): <c>&lt;issuer-signed JWT&gt;~&lt;disclosure&gt;~...~&lt;KB-JWT or nothing&gt;</c>.
/// Splitting only: nothing here is verified.
/// </summary>
public sealed record CompactSdJwt(string IssuerSignedJwt, IReadOnlyList<string> Disclosures, string? KeyBindingJwt)
{
    /// <summary>
    /// The SD-JWT without key binding, ending in <c>~</c>: the exact string a KB-JWT's <c>sd_hash</c> covers (§4.3.1).
    /// </summary>
    public string WithoutKeyBinding => IssuerSignedJwt + SdJwtNames.Separator + string.Concat(Disclosures.Select(d => d + SdJwtNames.Separator));

    public override string ToString() => WithoutKeyBinding + KeyBindingJwt;

    /// <summary>Splits a serialized SD-JWT or SD-JWT+KB; <paramref name="maxLength"/> bounds what is read at all.</summary>
    public static CredentialResult<CompactSdJwt> Parse(string? serialized, int maxLength)
    {
        if (string.IsNullOrEmpty(serialized))
        {
            return CredentialResult<CompactSdJwt>.Fail(CredentialError.Malformed, "The SD-JWT is empty.");
        }

        if (serialized.Length > maxLength)
        {
            return CredentialResult<CompactSdJwt>.Fail(CredentialError.TooLarge, "The SD-JWT is longer than this verifier accepts.");
        }

        var parts = serialized.Split(SdJwtNames.Separator);
        if (parts.Length < 2)
        {
            return CredentialResult<CompactSdJwt>.Fail(CredentialError.Malformed, "The SD-JWT has no '~' separator: it is a plain JWT.");
        }

        if (parts[0].Length == 0 || parts[0].Count(c => c == '.') != 2)
        {
            return CredentialResult<CompactSdJwt>.Fail(CredentialError.Malformed, "The issuer-signed part is not a compact JWS.");
        }

        var disclosures = parts[1..^1];
        if (disclosures.Any(d => d.Length == 0))
        {
            return CredentialResult<CompactSdJwt>.Fail(CredentialError.Malformed, "The SD-JWT has an empty disclosure between two '~'.");
        }

        var keyBinding = parts[^1].Length == 0 ? null : parts[^1];
        if (keyBinding is not null && keyBinding.Count(c => c == '.') != 2)
        {
            return CredentialResult<CompactSdJwt>.Fail(CredentialError.KeyBindingMalformed, "The part after the last '~' is not a compact JWS.");
        }

        return CredentialResult<CompactSdJwt>.Success(new CompactSdJwt(parts[0], disclosures, keyBinding));
    }
}
