using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.Dcql;
using Tessera.Hosting;

namespace Tessera.Credentials;

/// <summary>A configured presentation, compiled: its parsed DCQL query, its clients, and its output claims by path.</summary>
public sealed record PresentationDefinition(string Id, DcqlQuery Query, JsonObject QueryJson, FrozenSet<string> Clients,
    IReadOnlyList<(string Name, ClaimPath Path)> Claims, TimeSpan Lifetime)
{
    public static CredentialResult<DcqlQuery> ParseQuery(string json)
    {
        try
        {
            return DcqlQuery.Parse(JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 32 }));
        }
        catch (JsonException)
        {
            return CredentialResult<DcqlQuery>.Fail(CredentialError.QueryMalformed, "The query is not JSON.");
        }
    }

    public static ClaimPath PathOf(IEnumerable<string> names) => ClaimPath.Of([.. names]);

    public static PresentationDefinition Compile(PresentationOptions options) => new(
        options.Id,
        ParseQuery(options.Query).Value!,
        JsonNode.Parse(options.Query)!.AsObject(),
        options.Clients.ToFrozenSet(StringComparer.Ordinal),
        [.. options.Claims.Select(c => (c.Key, PathOf(c.Value)))],
        options.Lifetime);
}

/// <summary>A credential issuer Tessera trusts as a verifier, compiled: Tessera itself, or a configured one with its inline keys.</summary>
public sealed record TrustedCredentialIssuer(string Id, string Issuer, FrozenSet<string> Vcts, IReadOnlyList<string> Algorithms, TimeSpan ClockSkew, bool RequireStatus,
    IReadOnlyList<SecurityKey>? InlineKeys, IssuerKeyOptions Keys)
{
    public bool IsTessera => Id == CredentialOptionsValidator.TesseraIssuerId;
}

/// <summary>The verifier side of a compiled configuration: presentations by id and trusted credential issuers by <c>iss</c>.</summary>
public sealed class VerifierModel
{
    public VerifierModel(TesseraOptions options, TesseraIssuer issuer)
    {
        Presentations = options.Presentations.ToFrozenDictionary(p => p.Id, PresentationDefinition.Compile, StringComparer.Ordinal);
        var issuers = options.TrustedCredentialIssuers.Select(i => new TrustedCredentialIssuer(i.Id, i.Issuer, i.Vcts.ToFrozenSet(StringComparer.Ordinal), i.AllowedAlgorithms,
            i.ClockSkew, i.RequireStatus, i.Jwks is null ? null : [.. new JsonWebKeySet(i.Jwks).Keys], i.Keys)).ToList();

        // Tessera's own credentials are always trusted, with the key ring's keys and its own status lists.
        issuers.Add(new TrustedCredentialIssuer(CredentialOptionsValidator.TesseraIssuerId, issuer.Name, options.Credentials.Select(c => c.Vct).ToFrozenSet(StringComparer.Ordinal),
            CredentialOptionsValidator.DefaultAlgorithms, TimeSpan.FromSeconds(60), RequireStatus: true, InlineKeys: null, new IssuerKeyOptions()));
        Issuers = issuers.ToFrozenDictionary(i => i.Issuer, StringComparer.Ordinal);
    }

    public FrozenDictionary<string, PresentationDefinition> Presentations { get; }

    /// <summary>Trusted credential issuers by their exact <c>iss</c>.</summary>
    public FrozenDictionary<string, TrustedCredentialIssuer> Issuers { get; }
}
