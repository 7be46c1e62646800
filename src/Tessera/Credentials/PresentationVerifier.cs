using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.Dcql;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Vc;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>
/// What a verified presentation proved: the result claims, by their configured names, the holder's key thumbprint,
/// the trusted issuers' ids, and when the first of its credentials expires (null when none has <c>exp</c>).
/// </summary>
public sealed record VerifiedPresentation(JsonObject Claims, string HolderKeyThumbprint, IReadOnlyList<string> Issuers, DateTimeOffset? ExpiresAt = null);

/// <summary>Why a presentation was refused: a short reason (snake_case, safe to log and audit) and a description that never quotes a claim value.</summary>
public sealed record PresentationRefusal(string Reason, string Description);

/// <summary>
/// Verifies a <c>vp_token</c> (OpenID4VP 1.0 §8.1: a JSON object keyed by credential query id, each an array of
/// presentations) against a configured presentation: each SD-JWT VC from a trusted issuer with that issuer's keys and
/// algorithms, an allowed <c>vct</c>, the RFC 9901 disclosure rules, key binding with the expected <c>aud</c> and
/// <c>nonce</c>, freshness, its status list entry valid, and the DCQL query answered. The result carries only the
/// configured claims the holder disclosed in answer to the query.
/// </summary>
public sealed class PresentationVerifier(TesseraConfiguration configuration, TrustedCredentialKeys keys, CredentialStatusCheck status, TesseraDbContext db, TimeProvider time)
{
    public const int MaxPresentationsPerQuery = 4;

    public async Task<(VerifiedPresentation? Presentation, PresentationRefusal? Refusal)> VerifyAsync(string? vpToken, PresentationDefinition definition,
        KeyBindingExpectation keyBinding, CancellationToken cancellationToken)
    {
        JsonObject? token;
        try
        {
            token = string.IsNullOrEmpty(vpToken) ? null : JsonNode.Parse(vpToken, documentOptions: new JsonDocumentOptions { MaxDepth = 8 }) as JsonObject;
        }
        catch (JsonException)
        {
            token = null;
        }

        if (token is null)
        {
            return Refuse("malformed_vp_token", "vp_token must be a JSON object keyed by credential query id (OpenID4VP 1.0 §8.1).");
        }

        if (token.Select(m => m.Key).FirstOrDefault(k => !definition.Query.Credentials.Any(c => c.Id == k)) is not null)
        {
            return Refuse("malformed_vp_token", "vp_token answers a credential query that was not asked.");
        }

        var claims = new JsonObject();
        string? holder = null;
        var issuers = new List<string>();
        DateTimeOffset? expires = null;
        foreach (var query in definition.Query.Credentials)
        {
            if (token[query.Id] is not JsonArray { Count: > 0 } presentations)
            {
                return Refuse("query_not_answered", $"vp_token has no presentation for the credential query '{query.Id}'.");
            }

            if (presentations.Count > (query.Multiple ? MaxPresentationsPerQuery : 1))
            {
                return Refuse("malformed_vp_token", $"vp_token has more presentations for '{query.Id}' than the query allows.");
            }

            foreach (var item in presentations)
            {
                if (item is not JsonValue value || !value.TryGetValue<string>(out var presentation))
                {
                    return Refuse("malformed_vp_token", "Each presentation is a string (an SD-JWT VC with key binding).");
                }

                var (verified, issuer, refusal) = await VerifyOneAsync(presentation, keyBinding, cancellationToken);
                if (verified is null)
                {
                    return (null, refusal);
                }

                var match = DcqlEvaluator.Match(query, verified);
                if (match.Value is null)
                {
                    return Refuse("query_not_answered", match.Failure!.Description);
                }

                foreach (var (name, path) in definition.Claims)
                {
                    if (!claims.ContainsKey(name) && match.Value.Claims.FirstOrDefault(c => c.Path.Equals(path)) is { } found)
                    {
                        claims[name] = found.Value?.DeepClone();
                    }
                }

                holder ??= Base64UrlEncoder.Encode(verified.SdJwt.HolderKey!.ComputeJwkThumbprint());
                issuers.Add(issuer!);
                if (verified.Claims["exp"] is JsonValue exp && exp.TryGetValue<double>(out var seconds) && seconds is > 0 and < 253_402_300_799
                    && DateTimeOffset.FromUnixTimeSeconds((long)seconds) is var at && (expires is null || at < expires))
                {
                    expires = at; // the verifier has refused any exp that is not a NumericDate or has passed
                }
            }
        }

        return (new VerifiedPresentation(claims, holder!, issuers, expires), null);
    }

    private async Task<(VerifiedCredential? Credential, string? IssuerId, PresentationRefusal? Refusal)> VerifyOneAsync(string presentation, KeyBindingExpectation keyBinding, CancellationToken cancellationToken)
    {
        var model = configuration.Current.Verifier;
        var issuerSigned = presentation.Split('~', 2)[0];
        string? iss;
        string? kid;
        try
        {
            var jwt = new JsonWebToken(issuerSigned);
            iss = jwt.TryGetPayloadValue<string>("iss", out var named) ? named : null;
            kid = jwt.Kid;
        }
        catch (Exception exception) when (exception is ArgumentException or JsonException or FormatException)
        {
            return (null, null, new PresentationRefusal("malformed", "A presentation is not an SD-JWT."));
        }

        if (iss is null || !model.Issuers.TryGetValue(iss, out var issuer))
        {
            return (null, null, new PresentationRefusal("untrusted_issuer", "The credential's issuer is not a trusted credential issuer."));
        }

        var issuerKeys = await keys.KeysAsync(issuer, kid, cancellationToken);
        if (issuerKeys.Count == 0)
        {
            return (null, null, new PresentationRefusal("issuer_keys_unavailable", "The trusted issuer's keys could not be obtained."));
        }

        var policy = new SdJwtVcVerificationPolicy
        {
            SdJwt = new SdJwtVerificationPolicy
            {
                AllowedTypes = [SdJwtVcNames.Type],
                AllowedAlgorithms = issuer.Algorithms,
                ClockSkew = issuer.ClockSkew,
                RequireKeyBinding = true,
            },
            AllowedVcts = issuer.Vcts,
            RequireStatus = issuer.RequireStatus,
        };
        var verified = await new SdJwtVcVerifier(time).VerifyAsync(presentation, new SdJwtIssuerTrust(issuerKeys) { Issuer = issuer.Issuer }, policy, keyBinding);
        if (verified.Value is null)
        {
            return (null, null, new PresentationRefusal(Reason(verified.Failure!.Error), verified.Failure.Description));
        }

        if (verified.Value.SdJwt.HolderKey is null || !verified.Value.SdJwt.KeyBound)
        {
            return (null, null, new PresentationRefusal("key_binding_missing", "The presentation is not bound to the holder's key."));
        }

        if (verified.Value.Status is { } reference && await status.CheckAsync(reference, issuer, issuerKeys, db, cancellationToken) is { } refused)
        {
            return (null, null, new PresentationRefusal(refused.Reason, refused.Description));
        }

        return (verified.Value, issuer.Id, null);
    }

    /// <summary><c>DigestReferencedTwice</c> → <c>digest_referenced_twice</c>: the library's rule as the refusal's reason.</summary>
    public static string Reason(CredentialError error)
    {
        var name = error.ToString();
        var reason = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                reason.Append('_');
            }

            reason.Append(char.ToLowerInvariant(name[i]));
        }

        return reason.ToString();
    }

    private static (VerifiedPresentation?, PresentationRefusal?) Refuse(string reason, string description) => (null, new PresentationRefusal(reason, description));
}
