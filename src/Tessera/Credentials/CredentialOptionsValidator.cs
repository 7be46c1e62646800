using Microsoft.IdentityModel.Tokens;
using Tessera.Federation;
using Tessera.Hosting;
using static Tessera.Hosting.TesseraOptionsValidator;

namespace Tessera.Credentials;

/// <summary>Checks <c>Credentials</c> and <c>TrustedCredentialIssuers</c> the way issuing and verifying read them.</summary>
public static class CredentialOptionsValidator
{
    /// <summary>The trusted-credential-issuer id that stands for Tessera's own credentials.</summary>
    public const string TesseraIssuerId = "tessera";

    public static readonly IReadOnlyList<string> DefaultAlgorithms = ["ES256", "RS256"];

    // draft-ietf-oauth-sd-jwt-vc §3.2.2: set by the issuer; RFC 9901 §4.2: the digest and decoy names.
    private static readonly HashSet<string> ReservedCredentialClaims = new(StringComparer.Ordinal)
    {
        "iss", "vct", "vct#integrity", "iat", "exp", "nbf", "cnf", "status", "sub", "aud", "jti", "_sd", "_sd_alg", "...",
    };

    public static void ApplyDefaults(TesseraOptions options)
    {
        foreach (var issuer in options.TrustedCredentialIssuers.Where(i => i.AllowedAlgorithms.Count == 0))
        {
            issuer.AllowedAlgorithms = [.. DefaultAlgorithms];
        }
    }

    public static void Validate(TesseraOptions options, Action<string, string> error)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var vcts = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Credentials.Count; i++)
        {
            ValidateCredential(options, options.Credentials[i], $"$.Tessera.Credentials[{i}]", ids, vcts, error);
        }

        var issuerIds = new HashSet<string>(StringComparer.Ordinal);
        var issuerNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.TrustedCredentialIssuers.Count; i++)
        {
            ValidateIssuer(options, options.TrustedCredentialIssuers[i], $"$.Tessera.TrustedCredentialIssuers[{i}]", issuerIds, issuerNames, error);
        }

        var presentationIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Presentations.Count; i++)
        {
            ValidatePresentation(options, options.Presentations[i], $"$.Tessera.Presentations[{i}]", presentationIds, error);
        }
    }

    // Registered JWT claims of the result token, which Tessera sets itself.
    private static readonly HashSet<string> ReservedResultClaims = new(StringComparer.Ordinal)
    {
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "azp", "client_id", "scope", "cnf", "act", "may_act", "nonce", "auth_time", "sid", "typ",
        "org", "conn", // what an exchanged token names on Tessera's own account (and OpenIddict's oi_ claims, below)
    };

    private static void ValidatePresentation(TesseraOptions options, PresentationOptions presentation, string path, HashSet<string> ids, Action<string, string> error)
    {
        if (!IdentifierPattern().IsMatch(presentation.Id))
        {
            error($"{path}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
        }
        else if (!ids.Add(presentation.Id))
        {
            error($"{path}.Id", $"'{presentation.Id}' is declared more than once");
        }

        var query = PresentationDefinition.ParseQuery(presentation.Query);
        if (query.Value is null)
        {
            error($"{path}.Query", $"is not a DCQL query Tessera can answer: {query.Failure!.Description}");
        }
        else
        {
            var acceptedVcts = options.Credentials.Select(c => c.Vct).Concat(options.TrustedCredentialIssuers.SelectMany(i => i.Vcts)).ToHashSet(StringComparer.Ordinal);
            for (var c = 0; c < query.Value.Credentials.Count; c++)
            {
                var credential = query.Value.Credentials[c];
                if (credential.Format != Dcql.DcqlQuery.SdJwtVcFormat)
                {
                    error($"{path}.Query.credentials[{c}].format", "must be dc+sd-jwt, the only format Tessera verifies");
                }
                else if (credential.VctValues.FirstOrDefault(v => !acceptedVcts.Contains(v)) is { } unknown)
                {
                    error($"{path}.Query.credentials[{c}].meta.vct_values", $"'{unknown}' is neither a credential Tessera issues nor a vct of a trusted credential issuer");
                }
            }
        }

        if (presentation.Clients.Count == 0)
        {
            error($"{path}.Clients", "name the clients that may ask for this presentation");
        }

        for (var c = 0; c < presentation.Clients.Count; c++)
        {
            var client = options.Clients.FirstOrDefault(x => x.ClientId == presentation.Clients[c]);
            if (client is null)
            {
                error($"{path}.Clients[{c}]", $"no client '{presentation.Clients[c]}' is declared");
            }
            else if (client.Type != "confidential")
            {
                error($"{path}.Clients[{c}]", $"'{client.ClientId}' is a public client; only a client that authenticates may ask for a presentation");
            }
        }

        if (presentation.Claims.Count == 0)
        {
            error($"{path}.Claims", "map at least one disclosed claim to a claim of the result");
        }

        foreach (var (name, claimPath) in presentation.Claims)
        {
            var at = $"{path}.Claims.{name}";
            if (name.Length is 0 or > 100 || ReservedResultClaims.Contains(name) || name.StartsWith("oi_", StringComparison.Ordinal))
            {
                error(at, $"'{name}' cannot be a result claim (1-100 characters, not a registered JWT claim that Tessera sets)");
            }
            else if (claimPath is null || claimPath.Count == 0 || claimPath.Any(string.IsNullOrEmpty))
            {
                error(at, "must be a claims path of one or more names, for example [\"age_equal_or_over\", \"21\"]");
            }
            else if (query.Value is not null && !query.Value.Credentials.Any(c => c.Claims?.Any(q => q.Path.Equals(PresentationDefinition.PathOf(claimPath))) == true))
            {
                error(at, "is not a claims path the query asks for, so the holder would never disclose it");
            }
        }

        if (presentation.Lifetime < TimeSpan.FromMinutes(1) || presentation.Lifetime > TimeSpan.FromMinutes(30))
        {
            error($"{path}.Lifetime", "must be between 1 and 30 minutes");
        }
    }

    private static void ValidateCredential(TesseraOptions options, CredentialOptions credential, string path, HashSet<string> ids, HashSet<string> vcts, Action<string, string> error)
    {
        if (!IdentifierPattern().IsMatch(credential.Id))
        {
            error($"{path}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
        }
        else if (!ids.Add(credential.Id))
        {
            error($"{path}.Id", $"'{credential.Id}' is declared more than once");
        }

        if (string.IsNullOrWhiteSpace(credential.Vct) || !IsAbsolute(credential.Vct, out _) || credential.Vct.Length > 2000)
        {
            error($"{path}.Vct", "must be an absolute URI naming the credential type (for example https://tessera.example/vct/age)");
        }
        else if (!vcts.Add(credential.Vct))
        {
            error($"{path}.Vct", "another credential already has this vct: a wallet could not tell them apart");
        }

        if (credential.Organizations.Count == 0)
        {
            error($"{path}.Organizations", "name the organizations whose users may receive it");
        }

        for (var o = 0; o < credential.Organizations.Count; o++)
        {
            if (!options.Organizations.Any(x => x.Id == credential.Organizations[o]))
            {
                error($"{path}.Organizations[{o}]", $"no organization '{credential.Organizations[o]}' is declared");
            }
        }

        if (credential.Claims.Count == 0)
        {
            error($"{path}.Claims", "a credential carries at least one claim");
        }

        foreach (var (name, claim) in credential.Claims)
        {
            var at = $"{path}.Claims.{name}";
            if (ReservedCredentialClaims.Contains(name))
            {
                error(at, $"'{name}' is set by the issuer (SD-JWT VC) and cannot be taken from an attribute");
            }
            else if (name.Length is 0 or > 100)
            {
                error(at, "a claim name has 1-100 characters");
            }

            if (string.IsNullOrWhiteSpace(claim.From) || claim.From.Length > 300)
            {
                error($"{at}.From", "name the user attribute the claim is taken from");
            }

            if (claim.Thresholds.Count > 10)
            {
                error($"{at}.Thresholds", "at most 10 ages");
            }

            for (var t = 0; t < claim.Thresholds.Count; t++)
            {
                if (claim.Thresholds[t] is < 1 or > 150)
                {
                    error($"{at}.Thresholds[{t}]", "must be an age from 1 to 150");
                }
                else if (claim.Thresholds.IndexOf(claim.Thresholds[t]) != t)
                {
                    error($"{at}.Thresholds[{t}]", "is listed twice");
                }
            }
        }

        for (var d = 0; d < credential.Disclosable.Count; d++)
        {
            if (!credential.Claims.ContainsKey(credential.Disclosable[d]))
            {
                error($"{path}.Disclosable[{d}]", $"'{credential.Disclosable[d]}' is not one of the credential's Claims");
            }
        }

        if (credential.Lifetime < TimeSpan.FromMinutes(5) || credential.Lifetime > TimeSpan.FromDays(3650))
        {
            error($"{path}.Lifetime", "must be between 5 minutes and 10 years");
        }

        if (credential.Scope is not null)
        {
            ValidateScopes([credential.Scope], $"{path}.Scope", (p, reason) => error($"{path}.Scope", reason));
        }

        if (options.Credentials.Count(c => c.EffectiveScope == credential.EffectiveScope) > 1 && credential.Id.Length > 0)
        {
            error($"{path}.Scope", $"'{credential.EffectiveScope}' is the scope of another credential too");
        }

        if (credential.SigningAlgorithm is not (SecurityAlgorithms.EcdsaSha256 or SecurityAlgorithms.RsaSha256))
        {
            error($"{path}.SigningAlgorithm", "must be ES256 or RS256 (the algorithms of Tessera's key ring)");
        }
    }

    private static void ValidateIssuer(TesseraOptions options, TrustedCredentialIssuerOptions issuer, string path, HashSet<string> ids, HashSet<string> names, Action<string, string> error)
    {
        if (!IdentifierPattern().IsMatch(issuer.Id))
        {
            error($"{path}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
        }
        else if (issuer.Id == TesseraIssuerId)
        {
            error($"{path}.Id", $"'{TesseraIssuerId}' stands for Tessera's own credentials, which are always trusted; choose another id");
        }
        else if (!ids.Add(issuer.Id))
        {
            error($"{path}.Id", $"'{issuer.Id}' is declared more than once");
        }

        if (string.IsNullOrWhiteSpace(issuer.Issuer) || !IsAbsolute(issuer.Issuer, out var url)
            || !(url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp && url.IsLoopback) || url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            error($"{path}.Issuer", "must be the issuer's absolute https URL (http only on loopback), exactly as its credentials spell 'iss'");
        }
        else if (issuer.Issuer.TrimEnd('/') == options.Issuer.TrimEnd('/'))
        {
            error($"{path}.Issuer", "is Tessera itself, whose credentials are always trusted");
        }
        else if (!names.Add(issuer.Issuer))
        {
            error($"{path}.Issuer", "another trusted credential issuer already has this issuer URL");
        }
        else if (issuer.Jwks is null && !options.Network.AllowPrivateUpstreams && UpstreamAddressPolicy.NamesNonPublicHost(url))
        {
            error($"{path}.Issuer", UpstreamAddressPolicy.ConfigurationRefusal);
        }

        if (issuer.Vcts.Count == 0 || issuer.Vcts.Any(string.IsNullOrWhiteSpace))
        {
            error($"{path}.Vcts", "name the credential types (vct) accepted from this issuer");
        }

        if (issuer.Jwks is not null && !HasPublicKeys(issuer.Jwks))
        {
            error($"{path}.Jwks", "must be a JWK Set of public EC or RSA keys");
        }

        for (var a = 0; a < issuer.AllowedAlgorithms.Count; a++)
        {
            if (!AsymmetricAlgorithms.Contains(issuer.AllowedAlgorithms[a]))
            {
                error($"{path}.AllowedAlgorithms[{a}]", $"'{issuer.AllowedAlgorithms[a]}' is not allowed (asymmetric algorithms only: {string.Join(", ", AsymmetricAlgorithms)})");
            }
        }

        if (issuer.ClockSkew < TimeSpan.Zero || issuer.ClockSkew > TimeSpan.FromMinutes(5))
        {
            error($"{path}.ClockSkew", "must be between 0 and 5 minutes");
        }

        ExchangeOptionsValidator.ValidateKeyCache(issuer.Keys, $"{path}.Keys", error);
    }

    private static bool HasPublicKeys(string jwks)
    {
        try
        {
            var keys = new JsonWebKeySet(jwks).Keys;
            return keys.Count > 0 && keys.All(k => k.Kty is "EC" or "RSA" && string.IsNullOrEmpty(k.D));
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
