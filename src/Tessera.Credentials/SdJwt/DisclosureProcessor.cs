using System.Text.Json.Nodes;

namespace Tessera.Credentials.SdJwt;

/// <summary>A disclosure and where its claim landed in the processed claim set.</summary>
public sealed record DisclosedClaim(Disclosure Disclosure, string Digest, ClaimPath Path);

/// <summary>The claim set after every disclosure presented was put in place, and where each one went.</summary>
public sealed record ProcessedClaims(JsonObject Claims, IReadOnlyList<DisclosedClaim> Disclosed);

/// <summary>
/// Replaces digests with the claims their disclosures carry (RFC 9901 §7.1 steps 3 to 4), refusing whatever would let
/// two readers of the same SD-JWT see different claims: a digest met twice, a disclosure that nothing references, a
/// disclosure that overwrites a claim, an array-element disclosure in an object or the reverse.
/// </summary>
internal sealed class DisclosureProcessor
{
    /// <summary>
    /// Nesting of objects and arrays, counted through disclosures: each disclosure may be up to the JSON depth limit by
    /// itself, so without this a chain of them could exhaust the stack.
    /// </summary>
    private const int MaxDepth = 64;

    private readonly Dictionary<string, Disclosure> byDigest;
    private readonly HashSet<string> digestsSeen = new(StringComparer.Ordinal);
    private readonly List<DisclosedClaim> disclosed = [];
    private CredentialFailure? failure;

    private DisclosureProcessor(Dictionary<string, Disclosure> byDigest)
    {
        this.byDigest = byDigest;
    }

    public static CredentialResult<ProcessedClaims> Process(JsonObject payload, IReadOnlyList<Disclosure> disclosures, DigestAlgorithm algorithm)
    {
        var byDigest = new Dictionary<string, Disclosure>(StringComparer.Ordinal);
        foreach (var disclosure in disclosures)
        {
            if (!byDigest.TryAdd(disclosure.Digest(algorithm), disclosure))
            {
                return CredentialResult<ProcessedClaims>.Fail(CredentialError.DisclosureDuplicated, "The same disclosure is presented twice.");
            }
        }

        var processor = new DisclosureProcessor(byDigest);
        var claims = processor.ProcessObject(payload, ClaimPath.Root, depth: 0, topLevel: true);
        if (processor.failure is not null)
        {
            return processor.failure;
        }

        // §7.1 step 4: a disclosure that no digest in the payload (or in another disclosure) references is refused.
        if (processor.disclosed.Count != byDigest.Count)
        {
            return CredentialResult<ProcessedClaims>.Fail(CredentialError.DisclosureUnreferenced, "A disclosure is not referenced by any digest in the SD-JWT.");
        }

        return CredentialResult<ProcessedClaims>.Success(new ProcessedClaims(claims!, processor.disclosed));
    }

    private JsonNode? ProcessValue(JsonNode? node, ClaimPath path, int depth) => node switch
    {
        JsonObject obj => ProcessObject(obj, path, depth + 1, topLevel: false),
        JsonArray array => ProcessArray(array, path, depth + 1),
        _ => node?.DeepClone(),
    };

    private JsonObject? ProcessObject(JsonObject source, ClaimPath path, int depth, bool topLevel)
    {
        if (!CheckDepth(depth))
        {
            return null;
        }

        var result = new JsonObject();
        foreach (var (name, value) in source)
        {
            if (name == SdJwtNames.Digests || (topLevel && name == SdJwtNames.DigestAlgorithm))
            {
                continue;
            }

            result[name] = ProcessValue(value, path.Append(ClaimPathSegment.Name(name)), depth);
            if (failure is not null)
            {
                return null;
            }
        }

        if (!source.TryGetPropertyValue(SdJwtNames.Digests, out var digests))
        {
            return result;
        }

        // §4.2.4.1: _sd is an array of digest strings.
        if (digests is not JsonArray digestArray)
        {
            return Fail<JsonObject>(CredentialError.PayloadMalformed, "An _sd member is not an array.");
        }

        foreach (var item in digestArray)
        {
            if (item is not JsonValue digestValue || !digestValue.TryGetValue<string>(out var digest))
            {
                return Fail<JsonObject>(CredentialError.PayloadMalformed, "An _sd array holds something other than a digest string.");
            }

            if (!Reference(digest, out var disclosure))
            {
                return null;
            }

            if (disclosure is null)
            {
                continue; // a decoy, or a claim the holder chose not to disclose
            }

            if (disclosure.IsArrayElement)
            {
                return Fail<JsonObject>(CredentialError.DisclosureShapeMismatch, "An array-element disclosure is referenced from an object's _sd.");
            }

            var claimName = disclosure.ClaimName!;

            // §7.1 step 3.c.ii.3: a disclosed claim never replaces one that is already there.
            if (result.ContainsKey(claimName) || (topLevel && claimName == SdJwtNames.DigestAlgorithm))
            {
                return Fail<JsonObject>(CredentialError.DisclosureClaimCollision, "A disclosure names a claim that the object already has.");
            }

            var claimPath = path.Append(ClaimPathSegment.Name(claimName));
            disclosed.Add(new DisclosedClaim(disclosure, digest, claimPath));
            result[claimName] = ProcessValue(disclosure.RawValue, claimPath, depth);
            if (failure is not null)
            {
                return null;
            }
        }

        return result;
    }

    private JsonArray? ProcessArray(JsonArray source, ClaimPath path, int depth)
    {
        if (!CheckDepth(depth))
        {
            return null;
        }

        var result = new JsonArray();
        foreach (var element in source)
        {
            // §4.2.4.2: an element standing for a disclosure is an object with the single key "...".
            if (element is JsonObject { Count: 1 } placeholder && placeholder.TryGetPropertyValue(SdJwtNames.ArrayElementDigest, out var digestNode))
            {
                if (digestNode is not JsonValue digestValue || !digestValue.TryGetValue<string>(out var digest))
                {
                    return Fail<JsonArray>(CredentialError.PayloadMalformed, "An array element's '...' member is not a digest string.");
                }

                if (!Reference(digest, out var disclosure))
                {
                    return null;
                }

                if (disclosure is null)
                {
                    continue; // undisclosed elements are removed (§7.1 step 3.d.iii)
                }

                if (!disclosure.IsArrayElement)
                {
                    return Fail<JsonArray>(CredentialError.DisclosureShapeMismatch, "An object-property disclosure is referenced from an array element.");
                }

                var elementPath = path.Append(ClaimPathSegment.Index(result.Count));
                disclosed.Add(new DisclosedClaim(disclosure, digest, elementPath));
                result.Add(ProcessValue(disclosure.RawValue, elementPath, depth));
            }
            else
            {
                result.Add(ProcessValue(element, path.Append(ClaimPathSegment.Index(result.Count)), depth));
            }

            if (failure is not null)
            {
                return null;
            }
        }

        return result;
    }

    /// <summary>Records that <paramref name="digest"/> was met; false (and a failure) when it was met before (§7.1 step 3.b, 4).</summary>
    private bool Reference(string digest, out Disclosure? disclosure)
    {
        disclosure = null;
        if (!digestsSeen.Add(digest))
        {
            Fail<object>(CredentialError.DigestReferencedTwice, "A digest appears more than once in the SD-JWT.");
            return false;
        }

        byDigest.TryGetValue(digest, out disclosure);
        return true;
    }

    private bool CheckDepth(int depth)
    {
        if (depth <= MaxDepth)
        {
            return true;
        }

        Fail<object>(CredentialError.NestingTooDeep, "The claims nest deeper than this verifier accepts.");
        return false;
    }

    private T? Fail<T>(CredentialError error, string description) where T : class
    {
        failure ??= new CredentialFailure(error, description);
        return null;
    }
}
