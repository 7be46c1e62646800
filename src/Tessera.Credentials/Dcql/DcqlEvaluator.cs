using System.Text.Json.Nodes;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Vc;

namespace Tessera.Credentials.Dcql;

/// <summary>Which claims of a credential answered a credential query, by the paths they were found at.</summary>
public sealed record DcqlMatch(string CredentialQueryId, IReadOnlyList<ResolvedClaim> Claims);

/// <summary>
/// Evaluates DCQL credential queries (OpenID4VP 1.0 §6.4) for SD-JWT VCs: on the verifier side, whether a verified
/// presentation answers the query; on the holder side, which disclosures to present so that it does.
/// </summary>
public static class DcqlEvaluator
{
    /// <summary>Does the verified credential answer <paramref name="query"/>? Its disclosed claims only are consulted.</summary>
    public static CredentialResult<DcqlMatch> Match(DcqlCredentialQuery query, VerifiedCredential credential)
    {
        if (query.RequireCryptographicHolderBinding && !credential.SdJwt.KeyBound)
        {
            return NotSatisfied("The query requires holder binding and the presentation is not key-bound.");
        }

        return Evaluate(query, credential.Vct, credential.Claims);
    }

    /// <summary>
    /// The disclosures a holder presents to answer <paramref name="query"/> with <paramref name="credential"/>: for the
    /// first claim set (in the query's order of preference) the credential can satisfy, the disclosures of those claims
    /// and of the claims that contain them. Nothing else is disclosed.
    /// </summary>
    public static CredentialResult<IReadOnlyList<Disclosure>> SelectDisclosures(DcqlCredentialQuery query, HeldSdJwt credential)
    {
        var vct = CompactJws.ReadString(credential.Claims, SdJwtVcNames.Vct);
        var match = Evaluate(query, vct, credential.Claims);
        return match.Succeeded
            ? CredentialResult<IReadOnlyList<Disclosure>>.Success(credential.DisclosuresForConcrete(match.Value!.Claims.Select(c => c.Path).ToList()))
            : match.Failure!;
    }

    private static CredentialResult<DcqlMatch> Evaluate(DcqlCredentialQuery query, string? vct, JsonObject claims)
    {
        if (query.Format != DcqlQuery.SdJwtVcFormat)
        {
            return NotSatisfied("The query asks for a credential format other than dc+sd-jwt.");
        }

        if (vct is null || !query.VctValues.Contains(vct, StringComparer.Ordinal))
        {
            return NotSatisfied("The credential's vct is not one the query accepts.");
        }

        if (query.Claims is null)
        {
            return CredentialResult<DcqlMatch>.Success(new DcqlMatch(query.Id, []));
        }

        // §6.4.1: without claim_sets every claim is required; with them, the first set that can be satisfied is used.
        var options = query.ClaimSets?.Select(set => set.Select(id => query.Claims.First(c => c.Id == id)).ToList())
            ?? [query.Claims.ToList()];
        foreach (var option in options)
        {
            var found = new List<ResolvedClaim>();
            var satisfied = true;
            foreach (var claim in option)
            {
                var matches = ClaimPathResolver.Resolve(claims, claim.Path).Where(c => ValueMatches(claim, c.Value)).ToList();
                if (matches.Count == 0)
                {
                    satisfied = false;
                    break;
                }

                found.AddRange(matches);
            }

            if (satisfied)
            {
                return CredentialResult<DcqlMatch>.Success(new DcqlMatch(query.Id, found));
            }
        }

        return NotSatisfied("The credential does not hold the claims the query asks for.");
    }

    /// <summary>§6.4.1: with <c>values</c>, the claim must equal one of them.</summary>
    private static bool ValueMatches(DcqlClaimQuery claim, JsonNode? value) =>
        claim.Values is null || (value is JsonValue && claim.Values.Any(expected => JsonNode.DeepEquals(expected, value)));

    private static CredentialResult<DcqlMatch> NotSatisfied(string description) => CredentialResult<DcqlMatch>.Fail(CredentialError.QueryNotSatisfied, description);
}
