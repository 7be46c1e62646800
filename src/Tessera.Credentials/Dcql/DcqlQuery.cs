using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tessera.Credentials.Dcql;

/// <summary>A DCQL query (OpenID4VP 1.0 §6): the credentials a verifier asks for. <c>credential_sets</c> is not read yet.</summary>
public sealed record DcqlQuery(IReadOnlyList<DcqlCredentialQuery> Credentials)
{
    /// <summary>The credential format this library evaluates (OpenID4VP 1.0 Appendix B.3).</summary>
    public const string SdJwtVcFormat = "dc+sd-jwt";

    /// <summary>Reads a query's JSON, refusing anything the specification says a query must not be.</summary>
    public static CredentialResult<DcqlQuery> Parse(JsonNode? json)
    {
        if (json is not JsonObject query || query["credentials"] is not JsonArray { Count: > 0 } credentials)
        {
            return Malformed("A DCQL query has a non-empty credentials array.");
        }

        var result = new List<DcqlCredentialQuery>();
        foreach (var node in credentials)
        {
            var credential = DcqlCredentialQuery.Parse(node);
            if (!credential.Succeeded)
            {
                return credential.Failure!;
            }

            result.Add(credential.Value!);
        }

        // §6.1: ids are unique within the query.
        return result.Select(c => c.Id).Distinct(StringComparer.Ordinal).Count() == result.Count
            ? CredentialResult<DcqlQuery>.Success(new DcqlQuery(result))
            : Malformed("Two credential queries share an id.");
    }

    internal static CredentialResult<DcqlQuery> Malformed(string description) => CredentialResult<DcqlQuery>.Fail(CredentialError.QueryMalformed, description);
}

/// <summary>One entry of <c>credentials</c> (OpenID4VP 1.0 §6.1).</summary>
public sealed partial record DcqlCredentialQuery(string Id, string Format)
{
    /// <summary><c>meta.vct_values</c> (Appendix B.3.5): the credential's <c>vct</c> must be one of these.</summary>
    public IReadOnlyList<string> VctValues { get; init; } = [];

    /// <summary>The claims asked for; null when the query asks for none beyond what is always disclosed.</summary>
    public IReadOnlyList<DcqlClaimQuery>? Claims { get; init; }

    /// <summary>Alternative sets of claim ids, most preferred first (§6.4.1); null when every claim is asked for.</summary>
    public IReadOnlyList<IReadOnlyList<string>>? ClaimSets { get; init; }

    public bool Multiple { get; init; }

    /// <summary>§6.1: true unless the query says otherwise; then the presentation must be key-bound.</summary>
    public bool RequireCryptographicHolderBinding { get; init; } = true;

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    internal static partial Regex Identifier();

    internal static CredentialResult<DcqlCredentialQuery> Parse(JsonNode? node)
    {
        if (node is not JsonObject credential)
        {
            return Malformed("A credential query is not an object.");
        }

        if (CompactJws.ReadString(credential, "id") is not { } id || !Identifier().IsMatch(id))
        {
            return Malformed("A credential query's id is missing or uses characters other than letters, digits, '_' and '-'.");
        }

        if (CompactJws.ReadString(credential, "format") is not { } format)
        {
            return Malformed("A credential query has no format.");
        }

        if (credential["meta"] is not JsonObject meta)
        {
            return Malformed("A credential query has no meta object.");
        }

        var vctValues = new List<string>();
        if (format == DcqlQuery.SdJwtVcFormat)
        {
            if (meta["vct_values"] is not JsonArray { Count: > 0 } vcts || vcts.Any(v => v is not JsonValue s || !s.TryGetValue<string>(out _)))
            {
                return Malformed("A dc+sd-jwt credential query's meta.vct_values is not a non-empty array of strings.");
            }

            vctValues.AddRange(vcts.Select(v => v!.GetValue<string>()));
        }

        List<DcqlClaimQuery>? claims = null;
        if (credential.ContainsKey("claims"))
        {
            if (credential["claims"] is not JsonArray { Count: > 0 } claimArray)
            {
                return Malformed("A credential query's claims is not a non-empty array.");
            }

            claims = [];
            foreach (var claimNode in claimArray)
            {
                var claim = DcqlClaimQuery.Parse(claimNode);
                if (claim is null)
                {
                    return Malformed("A claims query has no valid path, or an invalid id or values.");
                }

                claims.Add(claim);
            }
        }

        List<IReadOnlyList<string>>? claimSets = null;
        if (credential.ContainsKey("claim_sets"))
        {
            // §6.1: claim_sets needs claims with ids, and each set names only those ids.
            var ids = claims?.Where(c => c.Id is not null).Select(c => c.Id!).ToHashSet(StringComparer.Ordinal);
            if (ids is null || claims!.Any(c => c.Id is null) || credential["claim_sets"] is not JsonArray { Count: > 0 } sets)
            {
                return Malformed("claim_sets needs a non-empty array and claims that all have ids.");
            }

            claimSets = [];
            foreach (var set in sets)
            {
                if (set is not JsonArray { Count: > 0 } members || members.Any(m => m is not JsonValue v || !v.TryGetValue<string>(out var claimId) || !ids.Contains(claimId)))
                {
                    return Malformed("A claim set is not a non-empty array of ids of this query's claims.");
                }

                claimSets.Add(members.Select(m => m!.GetValue<string>()).ToList());
            }
        }

        if (!ReadBoolean(credential, "multiple", false, out var multiple) || !ReadBoolean(credential, "require_cryptographic_holder_binding", true, out var binding))
        {
            return Malformed("multiple or require_cryptographic_holder_binding is not a boolean.");
        }

        return CredentialResult<DcqlCredentialQuery>.Success(new DcqlCredentialQuery(id, format)
        {
            VctValues = vctValues,
            Claims = claims,
            ClaimSets = claimSets,
            Multiple = multiple,
            RequireCryptographicHolderBinding = binding,
        });
    }

    private static bool ReadBoolean(JsonObject obj, string name, bool absent, out bool value)
    {
        value = absent;
        if (!obj.TryGetPropertyValue(name, out var node))
        {
            return true;
        }

        return node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False && v.TryGetValue(out value);
    }

    private static CredentialResult<DcqlCredentialQuery> Malformed(string description) => CredentialResult<DcqlCredentialQuery>.Fail(CredentialError.QueryMalformed, description);
}

/// <summary>One entry of a credential query's <c>claims</c> (OpenID4VP 1.0 §6.3).</summary>
public sealed record DcqlClaimQuery(string? Id, ClaimPath Path)
{
    /// <summary>When set, the claim's value must equal one of these (strings, integers or booleans).</summary>
    public IReadOnlyList<JsonValue>? Values { get; init; }

    internal static DcqlClaimQuery? Parse(JsonNode? node)
    {
        if (node is not JsonObject claim || ClaimPath.FromJson(claim["path"]) is not { } path)
        {
            return null;
        }

        string? id = null;
        if (claim.ContainsKey("id"))
        {
            id = CompactJws.ReadString(claim, "id");
            if (id is null || !DcqlCredentialQuery.Identifier().IsMatch(id))
            {
                return null;
            }
        }

        List<JsonValue>? values = null;
        if (claim.ContainsKey("values"))
        {
            if (claim["values"] is not JsonArray { Count: > 0 } array
                || array.Any(v => v is not JsonValue value || value.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)))
            {
                return null;
            }

            values = array.Select(v => (JsonValue)v!.DeepClone()).ToList();
        }

        return new DcqlClaimQuery(id, path) { Values = values };
    }
}
