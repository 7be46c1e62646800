using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials.Vc;

/// <summary>
/// The JWT VC issuer metadata document (draft-ietf-oauth-sd-jwt-vc §5): the issuer identifier and its public keys,
/// published at <c>/.well-known/jwt-vc-issuer</c>. Plain data: fetching and caching it belong to the caller.
/// </summary>
public sealed record JwtVcIssuerMetadata(string Issuer, IReadOnlyList<JsonWebKey> Keys)
{
    /// <summary>The document's URL (§5.1): the well-known path goes between the host and the issuer's own path.</summary>
    public static Uri WellKnownUri(string issuer)
    {
        var uri = new Uri(issuer, UriKind.Absolute);
        var path = uri.AbsolutePath.TrimEnd('/');
        return new UriBuilder(uri) { Path = SdJwtVcNames.IssuerMetadataPath + path, Query = "", Fragment = "" }.Uri;
    }

    /// <summary>The document to publish: <c>{"issuer": ..., "jwks": {"keys": [...]}}</c>, public members only.</summary>
    public JsonObject ToJson()
    {
        var keys = new JsonArray();
        foreach (var key in Keys)
        {
            keys.Add(PublicJwk.From(key) ?? throw new InvalidOperationException($"Key '{key.Kid}' has no public half to publish."));
        }

        return new JsonObject { ["issuer"] = Issuer, ["jwks"] = new JsonObject { ["keys"] = keys } };
    }

    /// <summary>
    /// Reads a fetched document for <paramref name="expectedIssuer"/>: the <c>issuer</c> must be exactly it (§5.3), keys
    /// must be public EC or RSA keys, inline (<c>jwks_uri</c> is not followed here).
    /// </summary>
    public static CredentialResult<JwtVcIssuerMetadata> Read(string json, string expectedIssuer)
    {
        JsonObject? document;
        try
        {
            document = JsonNode.Parse(json, documentOptions: StrictJson.Options) as JsonObject;
        }
        catch (JsonException)
        {
            document = null;
        }

        if (document is null)
        {
            return CredentialResult<JwtVcIssuerMetadata>.Fail(CredentialError.Malformed, "The issuer metadata is not a JSON object.");
        }

        if (CompactJws.ReadString(document, "issuer") != expectedIssuer)
        {
            return CredentialResult<JwtVcIssuerMetadata>.Fail(CredentialError.IssuerMismatch, "The issuer metadata names another issuer.");
        }

        if (document["jwks"] is not JsonObject { } jwks || jwks["keys"] is not JsonArray { Count: > 0 } keyArray)
        {
            return CredentialResult<JwtVcIssuerMetadata>.Fail(CredentialError.Malformed, "The issuer metadata has no inline jwks with keys.");
        }

        var keys = new List<JsonWebKey>();
        foreach (var node in keyArray)
        {
            if (PublicJwk.Read(node) is not { } key)
            {
                return CredentialResult<JwtVcIssuerMetadata>.Fail(CredentialError.IssuerKeyInvalid, "A key in the issuer metadata is not a public EC or RSA JWK.");
            }

            keys.Add(key);
        }

        return CredentialResult<JwtVcIssuerMetadata>.Success(new JwtVcIssuerMetadata(expectedIssuer, keys));
    }
}
