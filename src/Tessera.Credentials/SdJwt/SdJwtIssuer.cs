using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials.SdJwt;

/// <summary>What to issue: the claims, which of them are selectively disclosable, whose key binds it, how it is typed.</summary>
public sealed record SdJwtIssuance
{
    /// <summary>The claims in the clear, as the holder will see them with every disclosure.</summary>
    public required JsonObject Claims { get; init; }

    /// <summary>
    /// The claims made selectively disclosable, by path. A path may end inside another disclosable claim
    /// (<c>["age_equal_or_over"]</c> and <c>["age_equal_or_over","21"]</c>: recursive disclosure, §4.2.6) and may
    /// name an array element or, with null, every element of an array.
    /// </summary>
    public IReadOnlyCollection<ClaimPath> Disclosable { get; init; } = [];

    /// <summary>The holder's public key, put into <c>cnf</c> (RFC 7800 §3.2) so that presentations can be key-bound.</summary>
    public JsonWebKey? HolderKey { get; init; }

    /// <summary>The <c>typ</c> header (explicit typing, RFC 9901 §9.11), such as <c>dc+sd-jwt</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Decoy digests (§4.2.5) added to each <c>_sd</c> array and each array with disclosable elements: a random number in this range.</summary>
    public int MinDecoys { get; init; } = 1;

    public int MaxDecoys { get; init; } = 3;
}

/// <summary>An issued SD-JWT: its serialization (with every disclosure, no key binding) and its parts.</summary>
public sealed record IssuedSdJwt(string Serialized, string IssuerSignedJwt, IReadOnlyList<Disclosure> Disclosures);

/// <summary>
/// Issues SD-JWTs (RFC 9901 §4, §6.1): each disclosable claim becomes a disclosure with its own 128-bit salt from a
/// CSPRNG, its digest (SHA-256) goes into the <c>_sd</c> array of its object or takes the element's place in its
/// array, decoys are mixed in, and every <c>_sd</c> array is sorted so the order reveals nothing about the claims.
/// </summary>
public sealed class SdJwtIssuer
{
    private static readonly DigestAlgorithm Algorithm = DigestAlgorithm.Sha256;

    public CredentialResult<IssuedSdJwt> Issue(SdJwtIssuance issuance, SigningCredentials signingCredentials)
    {
        ArgumentNullException.ThrowIfNull(issuance);
        ArgumentNullException.ThrowIfNull(signingCredentials);
        if (issuance.MinDecoys < 0 || issuance.MaxDecoys < issuance.MinDecoys)
        {
            throw new ArgumentException("Decoys: 0 <= MinDecoys <= MaxDecoys.", nameof(issuance));
        }

        if (FindReservedName(issuance.Claims, topLevel: true) is { } reserved)
        {
            return CredentialResult<IssuedSdJwt>.Fail(CredentialError.ReservedClaimName, $"The claims use the name '{reserved}', which SD-JWT reserves.");
        }

        foreach (var path in issuance.Disclosable)
        {
            if (path.Segments.Count == 0 || ClaimPathResolver.Resolve(issuance.Claims, path).Count == 0)
            {
                return CredentialResult<IssuedSdJwt>.Fail(CredentialError.DisclosablePathNotFound, $"No claim is at the disclosable path {path}.");
            }
        }

        var disclosures = new List<Disclosure>();
        var payload = (JsonObject)Transform(issuance.Claims, ClaimPath.Root, issuance, disclosures)!;
        payload[SdJwtNames.DigestAlgorithm] = Algorithm.Name;

        if (issuance.HolderKey is not null)
        {
            if (payload.ContainsKey(SdJwtNames.Confirmation))
            {
                return CredentialResult<IssuedSdJwt>.Fail(CredentialError.ReservedClaimName, "The claims already carry cnf; the holder key would replace it.");
            }

            if (PublicJwk.From(issuance.HolderKey) is not { } jwk)
            {
                return CredentialResult<IssuedSdJwt>.Fail(CredentialError.HolderKeyInvalid, "The holder key is not a public EC or RSA key.");
            }

            payload[SdJwtNames.Confirmation] = new JsonObject { ["jwk"] = jwk };
        }

        var jwt = CompactJws.Sign(payload, signingCredentials, issuance.Type);
        var compact = new CompactSdJwt(jwt, disclosures.Select(d => d.Encoded).ToArray(), null);
        return CredentialResult<IssuedSdJwt>.Success(new IssuedSdJwt(compact.ToString(), jwt, disclosures));
    }

    /// <summary>Bottom-up: a claim's own disclosable members are replaced by digests before the claim itself is disclosed.</summary>
    private static JsonNode? Transform(JsonNode? node, ClaimPath path, SdJwtIssuance issuance, List<Disclosure> disclosures)
    {
        switch (node)
        {
            case JsonObject obj:
                var result = new JsonObject();
                var digests = new List<string>();
                foreach (var (name, value) in obj)
                {
                    var memberPath = path.Append(ClaimPathSegment.Name(name));
                    var transformed = Transform(value, memberPath, issuance, disclosures);
                    if (IsDisclosable(memberPath, issuance.Disclosable))
                    {
                        var disclosure = Disclosure.ForProperty(name, transformed);
                        disclosures.Add(disclosure);
                        digests.Add(disclosure.Digest(Algorithm));
                    }
                    else
                    {
                        result[name] = transformed;
                    }
                }

                if (digests.Count > 0)
                {
                    digests.AddRange(Decoys(issuance));
                    digests.Sort(StringComparer.Ordinal);
                    result[SdJwtNames.Digests] = new JsonArray([.. digests.Select(d => (JsonNode)JsonValue.Create(d))]);
                }

                return result;

            case JsonArray array:
                var elements = new List<JsonNode?>();
                var anyDisclosable = false;
                for (var i = 0; i < array.Count; i++)
                {
                    var elementPath = path.Append(ClaimPathSegment.Index(i));
                    var transformed = Transform(array[i], elementPath, issuance, disclosures);
                    if (IsDisclosable(elementPath, issuance.Disclosable))
                    {
                        var disclosure = Disclosure.ForArrayElement(transformed);
                        disclosures.Add(disclosure);
                        elements.Add(Placeholder(disclosure.Digest(Algorithm)));
                        anyDisclosable = true;
                    }
                    else
                    {
                        elements.Add(transformed);
                    }
                }

                if (anyDisclosable)
                {
                    foreach (var decoy in Decoys(issuance))
                    {
                        elements.Insert(RandomNumberGenerator.GetInt32(elements.Count + 1), Placeholder(decoy));
                    }
                }

                return new JsonArray([.. elements]);

            default:
                return node?.DeepClone();
        }
    }

    private static JsonObject Placeholder(string digest) => new() { [SdJwtNames.ArrayElementDigest] = digest };

    /// <summary>A decoy is the digest of a random value no disclosure will ever match (§4.2.5).</summary>
    private static IEnumerable<string> Decoys(SdJwtIssuance issuance)
    {
        var count = RandomNumberGenerator.GetInt32(issuance.MinDecoys, issuance.MaxDecoys + 1);
        for (var i = 0; i < count; i++)
        {
            yield return Algorithm.Digest(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)));
        }
    }

    /// <summary>True when a configured path names this concrete path (null in the configured path matches any index).</summary>
    private static bool IsDisclosable(ClaimPath concrete, IReadOnlyCollection<ClaimPath> disclosable) =>
        disclosable.Any(path => path.Segments.Count == concrete.Segments.Count
            && path.Segments.Zip(concrete.Segments).All(pair => pair.First == pair.Second || (pair.First.IsAllElements && pair.Second.ArrayIndex is not null)));

    private static string? FindReservedName(JsonNode? node, bool topLevel)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    if (name is SdJwtNames.Digests or SdJwtNames.ArrayElementDigest || (topLevel && name == SdJwtNames.DigestAlgorithm))
                    {
                        return name;
                    }

                    if (FindReservedName(value, topLevel: false) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonArray array:
                return array.Select(element => FindReservedName(element, topLevel: false)).FirstOrDefault(name => name is not null);
            default:
                return null;
        }
    }
}
