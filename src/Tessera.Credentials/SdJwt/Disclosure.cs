using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Credentials.SdJwt;

/// <summary>
/// One Disclosure (RFC 9901 §4.2): a salt, the claim name (absent for an array element) and the claim value, as the
/// base64url-encoded JSON array that travels in the SD-JWT. The digest is always computed over <see cref="Encoded"/>
/// as received, never over a re-serialization.
/// </summary>
public sealed class Disclosure
{
    private readonly JsonNode? value;

    private Disclosure(string encoded, string salt, string? claimName, JsonNode? value)
    {
        Encoded = encoded;
        Salt = salt;
        ClaimName = claimName;
        this.value = value;
    }

    public string Encoded { get; }

    public string Salt { get; }

    /// <summary>The claim name of an object-property disclosure; null for an array-element disclosure.</summary>
    public string? ClaimName { get; }

    public bool IsArrayElement => ClaimName is null;

    /// <summary>A copy of the claim value, as disclosed (it may itself hold <c>_sd</c> digests of nested disclosures).</summary>
    public JsonNode? Value => value?.DeepClone();

    internal JsonNode? RawValue => value;

    public string Digest(DigestAlgorithm algorithm) => algorithm.Digest(Encoded);

    /// <summary>A new disclosure for an object property, with a fresh 128-bit salt (§4.2.1, §9.3).</summary>
    public static Disclosure ForProperty(string claimName, JsonNode? value) => Create(claimName, value);

    /// <summary>A new disclosure for an array element, with a fresh 128-bit salt (§4.2.2).</summary>
    public static Disclosure ForArrayElement(JsonNode? value) => Create(null, value);

    /// <summary>A disclosure with a given salt: for reproducing a specification's example, never for issuing.</summary>
    internal static Disclosure WithSalt(string salt, string? claimName, JsonNode? value)
    {
        var array = new JsonArray(JsonValue.Create(salt));
        if (claimName is not null)
        {
            array.Add(JsonValue.Create(claimName));
        }

        array.Add(value?.DeepClone());
        var encoded = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(array.ToJsonString()));
        return new Disclosure(encoded, salt, claimName, value?.DeepClone());
    }

    private static Disclosure Create(string? claimName, JsonNode? value) =>
        WithSalt(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)), claimName, value);

    /// <summary>
    /// Decodes a disclosure as received (§7.1 step 3.a): base64url of a UTF-8 JSON array of [salt, value] or
    /// [salt, name, value], salt and name strings, name neither <c>_sd</c> nor <c>...</c>.
    /// </summary>
    public static CredentialResult<Disclosure> Parse(string encoded)
    {
        JsonNode? parsed;
        try
        {
            var bytes = Base64Url.DecodeFromChars(encoded);
            parsed = JsonNode.Parse(Encoding.UTF8.GetString(bytes), documentOptions: StrictJson.Options);
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return CredentialResult<Disclosure>.Fail(CredentialError.DisclosureMalformed, "A disclosure is not base64url-encoded JSON.");
        }

        if (parsed is not JsonArray array || array.Count is not (2 or 3))
        {
            return CredentialResult<Disclosure>.Fail(CredentialError.DisclosureMalformed, "A disclosure is not a JSON array of two or three elements.");
        }

        if (array[0] is not JsonValue saltValue || !saltValue.TryGetValue<string>(out var salt))
        {
            return CredentialResult<Disclosure>.Fail(CredentialError.DisclosureMalformed, "A disclosure's salt is not a string.");
        }

        string? claimName = null;
        if (array.Count == 3)
        {
            if (array[1] is not JsonValue nameValue || !nameValue.TryGetValue(out claimName))
            {
                return CredentialResult<Disclosure>.Fail(CredentialError.DisclosureMalformed, "A disclosure's claim name is not a string.");
            }

            // §7.1 step 3.c.ii.2: these names would let a disclosure rewrite the digest structure itself.
            if (claimName is SdJwtNames.Digests or SdJwtNames.ArrayElementDigest)
            {
                return CredentialResult<Disclosure>.Fail(CredentialError.DisclosureReservedName, "A disclosure carries the reserved claim name _sd or '...'.");
            }
        }

        var value = array[^1];
        array.RemoveAt(array.Count - 1);
        return CredentialResult<Disclosure>.Success(new Disclosure(encoded, salt, claimName, value));
    }
}
