using Tessera.Federation;
using static Tessera.Hosting.TesseraOptionsValidator;

namespace Tessera.Hosting;

/// <summary>Checks <c>TrustedIssuers</c> and <c>ExchangePolicies</c> the way an exchange reads them.</summary>
public static class ExchangeOptionsValidator
{
    /// <summary>The subject-issuer id that stands for Tessera's own access and ID tokens.</summary>
    public const string TesseraIssuerId = "tessera";

    public static void Validate(TesseraOptions options, Action<string, string> error)
    {
        var issuerIds = new HashSet<string>(StringComparer.Ordinal);
        var issuerNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.TrustedIssuers.Count; i++)
        {
            ValidateIssuer(options, options.TrustedIssuers[i], $"$.Tessera.TrustedIssuers[{i}]", issuerIds, issuerNames, error);
        }

        var samlConnections = options.Organizations.SelectMany(o => o.Connections).Where(c => c.Protocol == "saml2").Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var policyIds = new HashSet<string>(StringComparer.Ordinal);
        for (var p = 0; p < options.ExchangePolicies.Count; p++)
        {
            if (options.ExchangePolicies[p].Id is { } id && (!IdentifierPattern().IsMatch(id) || !policyIds.Add(id)))
            {
                error($"$.Tessera.ExchangePolicies[{p}].Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-', and name one policy only");
            }

            ValidatePolicy(options, options.ExchangePolicies[p], $"$.Tessera.ExchangePolicies[{p}]", issuerIds, samlConnections, error);
        }
    }

    private static void ValidateIssuer(TesseraOptions options, TrustedIssuerOptions issuer, string path, HashSet<string> ids, HashSet<string> names, Action<string, string> error)
    {
        if (!IdentifierPattern().IsMatch(issuer.Id))
        {
            error($"{path}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
        }
        else if (issuer.Id == TesseraIssuerId)
        {
            error($"{path}.Id", $"'{TesseraIssuerId}' stands for Tessera itself in exchange policies; choose another id");
        }
        else if (options.Organizations.SelectMany(o => o.Connections).Any(c => c.Id == issuer.Id))
        {
            error($"{path}.Id", $"'{issuer.Id}' is already a connection id; policies name issuers and connections by id, so they must differ");
        }
        else if (!ids.Add(issuer.Id))
        {
            error($"{path}.Id", $"'{issuer.Id}' is declared more than once");
        }

        if (!HttpUrl(issuer.Issuer, out var issuerUrl))
        {
            error($"{path}.Issuer", "must be the issuer's absolute https URL (http only on loopback), exactly as its tokens spell 'iss'");
        }
        else if (issuer.Issuer.TrimEnd('/') == options.Issuer.TrimEnd('/'))
        {
            error($"{path}.Issuer", "is Tessera itself; Tessera's own tokens are named 'tessera' in SubjectIssuers");
        }
        else if (!names.Add(issuer.Issuer))
        {
            error($"{path}.Issuer", "another trusted issuer already has this issuer URL: a token's keys would be ambiguous");
        }
        else if (issuer.JwksUri is null && !options.Network.AllowPrivateUpstreams && UpstreamAddressPolicy.NamesNonPublicHost(issuerUrl))
        {
            // Fetched (its discovery document) only without a JwksUri; with one, it is just the 'iss' tokens must carry.
            error($"{path}.Issuer", UpstreamAddressPolicy.ConfigurationRefusal);
        }

        var organization = options.Organizations.FirstOrDefault(o => o.Id == issuer.Organization);
        if (organization is null)
        {
            error($"{path}.Organization", $"no organization '{issuer.Organization}' is declared; every trusted issuer belongs to one");
        }
        else if (issuer.Connection is not null && !organization.Connections.Any(c => c.Id == issuer.Connection))
        {
            error($"{path}.Connection", $"organization '{organization.Id}' has no connection '{issuer.Connection}'");
        }

        if (issuer.JwksUri is not null)
        {
            if (!HttpUrl(issuer.JwksUri, out var jwksUrl))
            {
                error($"{path}.JwksUri", "must be an absolute https URL (http only on loopback); leave it out to use the issuer's discovery document");
            }
            else if (!options.Network.AllowPrivateUpstreams && UpstreamAddressPolicy.NamesNonPublicHost(jwksUrl))
            {
                error($"{path}.JwksUri", UpstreamAddressPolicy.ConfigurationRefusal);
            }
        }

        for (var a = 0; a < issuer.AllowedAlgorithms.Count; a++)
        {
            if (!AsymmetricAlgorithms.Contains(issuer.AllowedAlgorithms[a]))
            {
                error($"{path}.AllowedAlgorithms[{a}]", $"'{issuer.AllowedAlgorithms[a]}' is not allowed (asymmetric algorithms only: {string.Join(", ", AsymmetricAlgorithms)})");
            }
        }

        if (issuer.Audiences.Count == 0 || issuer.Audiences.Any(string.IsNullOrWhiteSpace))
        {
            error($"{path}.Audiences", "name the audience(s) its tokens must carry for Tessera; a token meant for someone else must not be exchangeable");
        }

        if (string.IsNullOrWhiteSpace(issuer.SubjectClaim) || ReservedClaims.Contains(issuer.SubjectClaim) && issuer.SubjectClaim != "sub")
        {
            error($"{path}.SubjectClaim", "must name the claim that identifies the subject (for example sub or ext_user_id)");
        }

        if (issuer.ClockSkew < TimeSpan.Zero || issuer.ClockSkew > TimeSpan.FromMinutes(5))
        {
            error($"{path}.ClockSkew", "must be between 0 and 5 minutes");
        }

        for (var m = 0; m < issuer.ClaimMappings.Count; m++)
        {
            var mapping = issuer.ClaimMappings[m];
            if (string.IsNullOrWhiteSpace(mapping.From))
            {
                error($"{path}.ClaimMappings[{m}].From", "name the claim of the foreign token");
            }

            if (string.IsNullOrWhiteSpace(mapping.Claim) || ReservedClaims.Contains(mapping.Claim))
            {
                error($"{path}.ClaimMappings[{m}].Claim", "must name a claim Tessera does not set itself");
            }
        }

        ValidateRules(issuer.Rules, $"{path}.Rules", error);

        ValidateKeyCache(issuer.Keys, $"{path}.Keys", error);
    }

    /// <summary>A presentation a policy names is exchanged as one SD-JWT VC presentation, by a client that may ask for it.</summary>
    private static void ValidatePresentations(TesseraOptions options, ExchangePolicyOptions policy, string path, Action<string, string> error)
    {
        for (var i = 0; i < policy.Presentations.Count; i++)
        {
            var at = $"{path}.Presentations[{i}]";
            var presentation = options.Presentations.FirstOrDefault(p => p.Id == policy.Presentations[i]);
            if (presentation is null)
            {
                error(at, $"'{policy.Presentations[i]}' is not a configured presentation");
            }
            else if (!presentation.Clients.Contains(policy.ClientId, StringComparer.Ordinal))
            {
                error(at, $"presentation '{presentation.Id}' does not list client '{policy.ClientId}' in its Clients");
            }
            else if (Credentials.PresentationDefinition.ParseQuery(presentation.Query).Value is { } query && query.Credentials.Count != 1)
            {
                error(at, $"presentation '{presentation.Id}' asks for {query.Credentials.Count} credentials; an exchanged subject token is one presentation, so its query must ask for one");
            }
        }

        if (policy.Presentations.Count > 0 && policy.IdTokens && policy.SubjectIssuers.Count == 0)
        {
            error($"{path}.IdTokens", "a presentation names no user to write an ID token for");
        }
    }

    private static void ValidatePolicy(TesseraOptions options, ExchangePolicyOptions policy, string path, HashSet<string> issuerIds, HashSet<string> samlConnections, Action<string, string> error)
    {
        var client = options.Clients.FirstOrDefault(c => c.ClientId == policy.ClientId);
        if (client is null)
        {
            error($"{path}.ClientId", $"no client '{policy.ClientId}' is declared");
        }
        else if (!client.GrantTypes.Contains(TokenExchangeGrant))
        {
            error($"{path}.ClientId", $"client '{client.ClientId}' does not list the grant type {TokenExchangeGrant}");
        }

        if (policy.SubjectIssuers.Count == 0 && policy.Presentations.Count == 0)
        {
            error($"{path}.SubjectIssuers", "name at least one trusted issuer, SAML connection, or 'tessera' (or a presentation in Presentations)");
        }

        ValidatePresentations(options, policy, path, error);

        void Sources(List<string> list, string name)
        {
            for (var s = 0; s < list.Count; s++)
            {
                var id = list[s];
                if (id != TesseraIssuerId && !issuerIds.Contains(id) && !samlConnections.Contains(id))
                {
                    error($"{path}.{name}[{s}]", $"'{id}' is neither a trusted issuer, a saml2 connection, nor 'tessera'");
                }
            }
        }

        Sources(policy.SubjectIssuers, nameof(policy.SubjectIssuers));
        Sources(policy.ActorIssuers, nameof(policy.ActorIssuers));

        if (policy.Audiences.Count == 0)
        {
            error($"{path}.Audiences", "name the audience(s) the exchanged token may be for");
        }

        for (var a = 0; a < policy.Audiences.Count; a++)
        {
            if (client is not null && !client.Audiences.Contains(policy.Audiences[a], StringComparer.Ordinal))
            {
                error($"{path}.Audiences[{a}]", $"'{policy.Audiences[a]}' is not among client '{client.ClientId}'s Audiences");
            }
        }

        if (policy.Scopes.Count == 0 && !policy.IdTokens)
        {
            error($"{path}.Scopes", "name the scopes the exchanged token may carry at most");
        }

        ValidateScopes(policy.Scopes, $"{path}.Scopes", error);
        for (var s = 0; s < policy.Scopes.Count; s++)
        {
            if (policy.Scopes[s] is "offline_access")
            {
                error($"{path}.Scopes[{s}]", "an exchange issues no refresh token");
            }
            else if (client is not null && policy.Scopes[s] != "openid" && !client.Scopes.Contains(policy.Scopes[s], StringComparer.Ordinal))
            {
                error($"{path}.Scopes[{s}]", $"'{policy.Scopes[s]}' is not among client '{client.ClientId}'s Scopes");
            }
        }

        if (policy.MaxLifetime is { } max && (max <= TimeSpan.Zero || max > TimeSpan.FromDays(1)))
        {
            error($"{path}.MaxLifetime", "must be positive and at most one day");
        }

        if (!policy.Delegation && !policy.Impersonation)
        {
            error($"{path}", "a policy must allow Delegation (an actor token, act claim), Impersonation, or both");
        }
    }

    /// <summary>The cache bounds of a foreign issuer's keys (a trusted token issuer's or credential issuer's).</summary>
    internal static void ValidateKeyCache(IssuerKeyOptions keys, string path, Action<string, string> error)
    {
        if (keys.RefreshInterval < TimeSpan.FromSeconds(1) || keys.RefreshInterval > TimeSpan.FromHours(1))
        {
            error($"{path}.RefreshInterval", "must be between 1 second and 1 hour");
        }

        if (keys.MinCacheDuration <= TimeSpan.Zero || keys.MinCacheDuration > keys.MaxCacheDuration)
        {
            error($"{path}.MinCacheDuration", "must be positive and at most MaxCacheDuration");
        }

        if (keys.DefaultCacheDuration < keys.MinCacheDuration || keys.DefaultCacheDuration > keys.MaxCacheDuration)
        {
            error($"{path}.DefaultCacheDuration", "must lie between MinCacheDuration and MaxCacheDuration");
        }

        if (keys.StaleLifetime < TimeSpan.Zero || keys.StaleLifetime > TimeSpan.FromDays(7))
        {
            error($"{path}.StaleLifetime", "must be between 0 and 7 days");
        }
    }

    private static bool HttpUrl(string? value, out Uri uri)
    {
        uri = null!;
        return !string.IsNullOrWhiteSpace(value) && IsAbsolute(value, out uri)
            && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)
            && string.IsNullOrEmpty(uri.Fragment);
    }
}
