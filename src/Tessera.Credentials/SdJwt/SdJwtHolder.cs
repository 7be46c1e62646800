using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials.SdJwt;

/// <summary>What the verifier asked the holder to bind a presentation to, and the holder's private key to sign with.</summary>
public sealed record KeyBindingRequest(string Audience, string Nonce, SigningCredentials HolderKey);

/// <summary>
/// A credential as its holder keeps it: the issuer-signed JWT, every disclosure, and the full claim set they make up,
/// with the place each disclosure fills. Paths here are those of the full claim set.
/// </summary>
public sealed record HeldSdJwt(string IssuerSignedJwt, JsonObject Claims, IReadOnlyList<DisclosedClaim> Disclosed, DigestAlgorithm DigestAlgorithm)
{
    /// <summary>
    /// The disclosures needed to show the claims at <paramref name="paths"/>: for each claim selected, the disclosures of
    /// the claims that contain it (a nested claim is unreachable without its parents, RFC 9901 §4.2.6), its own, and those
    /// of everything inside it. In issuance order.
    /// </summary>
    public CredentialResult<IReadOnlyList<Disclosure>> DisclosuresFor(IEnumerable<ClaimPath> paths)
    {
        var selected = new List<ClaimPath>();
        foreach (var path in paths)
        {
            var claims = ClaimPathResolver.Resolve(Claims, path);
            if (claims.Count == 0)
            {
                return CredentialResult<IReadOnlyList<Disclosure>>.Fail(CredentialError.QueryNotSatisfied, $"The credential has no claim at {path}.");
            }

            selected.AddRange(claims.Select(c => c.Path));
        }

        return CredentialResult<IReadOnlyList<Disclosure>>.Success(DisclosuresForConcrete(selected));
    }

    internal IReadOnlyList<Disclosure> DisclosuresForConcrete(IReadOnlyCollection<ClaimPath> concretePaths) => Disclosed
        .Where(d => concretePaths.Any(path => d.Path.IsPrefixOf(path) || path.IsPrefixOf(d.Path)))
        .Select(d => d.Disclosure)
        .ToList();
}

/// <summary>
/// The holder's side of RFC 9901 (§7.2, §4.3): reads an issued SD-JWT, and presents it with a chosen subset of its
/// disclosures and, when asked, a key-binding JWT over exactly that subset.
/// </summary>
public sealed class SdJwtHolder(TimeProvider time)
{
    /// <summary>
    /// Reads an SD-JWT as issued. The disclosures are checked the way a verifier checks them; the issuer's signature is
    /// not (the holder received it from its issuer directly; verifying it is the verifier's job).
    /// </summary>
    public static CredentialResult<HeldSdJwt> Read(string issued, int maxLength = 256 * 1024)
    {
        var parsed = CompactSdJwt.Parse(issued, maxLength);
        if (!parsed.Succeeded)
        {
            return parsed.Failure!;
        }

        var compact = parsed.Value!;
        if (CompactJws.Read(compact.IssuerSignedJwt) is not { } token || CompactJws.Payload(token) is not { } payload)
        {
            return CredentialResult<HeldSdJwt>.Fail(CredentialError.Malformed, "The issuer-signed JWT is not a readable JWS.");
        }

        var algorithmName = payload.ContainsKey(SdJwtNames.DigestAlgorithm) ? CompactJws.ReadString(payload, SdJwtNames.DigestAlgorithm) : "sha-256";
        if (DigestAlgorithm.FromName(algorithmName) is not { } algorithm)
        {
            return CredentialResult<HeldSdJwt>.Fail(CredentialError.DigestAlgorithmUnsupported, "The _sd_alg is not one this library computes.");
        }

        var disclosures = new List<Disclosure>();
        foreach (var encoded in compact.Disclosures)
        {
            var disclosure = Disclosure.Parse(encoded);
            if (!disclosure.Succeeded)
            {
                return disclosure.Failure!;
            }

            disclosures.Add(disclosure.Value!);
        }

        var processed = DisclosureProcessor.Process(payload, disclosures, algorithm);
        return processed.Succeeded
            ? CredentialResult<HeldSdJwt>.Success(new HeldSdJwt(compact.IssuerSignedJwt, processed.Value!.Claims, processed.Value.Disclosed, algorithm))
            : processed.Failure!;
    }

    /// <summary>
    /// The presentation: the issuer-signed JWT, the chosen disclosures, and a KB-JWT (<c>typ: kb+jwt</c>; <c>aud</c>,
    /// <c>nonce</c>, <c>iat</c>, <c>sd_hash</c>) when <paramref name="keyBinding"/> is given.
    /// </summary>
    public string Present(HeldSdJwt credential, IEnumerable<Disclosure> disclosures, KeyBindingRequest? keyBinding)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var held = credential.Disclosed.Select(d => d.Disclosure.Encoded).ToHashSet(StringComparer.Ordinal);
        var chosen = disclosures.DistinctBy(d => d.Encoded, StringComparer.Ordinal).ToList();
        if (chosen.Any(d => !held.Contains(d.Encoded)))
        {
            throw new ArgumentException("Only disclosures of this credential can be presented with it.", nameof(disclosures));
        }

        var withoutKeyBinding = new CompactSdJwt(credential.IssuerSignedJwt, chosen.Select(d => d.Encoded).ToArray(), null);
        if (keyBinding is null)
        {
            return withoutKeyBinding.ToString();
        }

        var payload = new JsonObject
        {
            ["iat"] = time.GetUtcNow().ToUnixTimeSeconds(),
            ["aud"] = keyBinding.Audience,
            ["nonce"] = keyBinding.Nonce,
            [SdJwtNames.SdHash] = credential.DigestAlgorithm.Digest(withoutKeyBinding.WithoutKeyBinding),
        };
        return (withoutKeyBinding with { KeyBindingJwt = CompactJws.Sign(payload, keyBinding.HolderKey, SdJwtNames.KeyBindingType) }).ToString();
    }
}
