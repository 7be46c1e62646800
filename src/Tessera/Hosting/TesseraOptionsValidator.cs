using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;
using Tessera.Keys;

namespace Tessera.Hosting;

/// <summary>Semantic checks on bound options. Every problem is reported with its JSON path; nothing is fixed up silently.</summary>
public static partial class TesseraOptionsValidator
{
    public static readonly IReadOnlySet<string> SupportedGrantTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "authorization_code", "refresh_token", "client_credentials", TokenExchangeGrant,
    };

    public const string TokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";

    public static readonly IReadOnlySet<string> AsymmetricAlgorithms = new HashSet<string>(StringComparer.Ordinal)
    {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
    };

    public static IReadOnlyList<ConfigurationError> Validate(TesseraOptions options)
    {
        var errors = new List<ConfigurationError>();
        void Error(string path, string reason) => errors.Add(new ConfigurationError(path, reason));

        ValidateIssuer(options.Issuer, Error);

        if (string.IsNullOrWhiteSpace(options.Storage.ConnectionString))
        {
            Error("$.Tessera.Storage.ConnectionString", "a connection string is required");
        }

        ValidateKeys(options.Keys, Error);
        ValidateLifetimes(options, Error);

        var clientIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Clients.Count; i++)
        {
            ValidateClient(options.Clients[i], $"$.Tessera.Clients[{i}]", clientIds, Error);
        }

        var organizationIds = new HashSet<string>(StringComparer.Ordinal);
        var connectionIds = new HashSet<string>(StringComparer.Ordinal);
        var domains = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var scimTokens = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Organizations.Count; i++)
        {
            ValidateOrganization(options, options.Organizations[i], $"$.Tessera.Organizations[{i}]", organizationIds, connectionIds, domains, scimTokens, Error);
        }

        ExchangeOptionsValidator.Validate(options, Error);
        SignalOptionsValidator.Validate(options, Error);
        AnomalyOptionsValidator.Validate(options, Error);
        RequestLimitsValidator.Validate(options, Error);
        AuditOptionsValidator.Validate(options, Error);
        Credentials.CredentialOptionsValidator.Validate(options, Error);
        Telemetry.PrometheusListener.Validate(options.Telemetry, Error);
        return errors;
    }

    private static void ValidateIssuer(string issuer, Action<string, string> error)
    {
        const string path = "$.Tessera.Issuer";
        if (string.IsNullOrWhiteSpace(issuer))
        {
            error(path, "an issuer URL is required");
            return;
        }

        if (!IsAbsolute(issuer, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            error(path, "must be an absolute http(s) URL");
            return;
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            error(path, "must not have a query or fragment");
        }

        if (!IssuerPath().IsMatch(uri.AbsolutePath))
        {
            error(path, "a path must be plain segments of letters, digits, '-', '_' and '.' (Tessera serves its endpoints under it)");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            error(path, "must use https unless the host is a loopback address");
        }
    }

    private static void ValidateKeys(KeyOptions keys, Action<string, string> error)
    {
        const string path = "$.Tessera.Keys.EncryptionKey";
        if (string.IsNullOrWhiteSpace(keys.EncryptionKey))
        {
            error(path, "a key-encryption key is required (base64 of 32 random bytes, usually env:TESSERA_KEY_ENCRYPTION_KEY)");
        }
        else if (!KeyEncryptionKey.TryParse(keys.EncryptionKey, out _))
        {
            error(path, "must be base64 of exactly 32 bytes");
        }

        if (keys.RotationPeriod < TimeSpan.FromHours(1))
        {
            error("$.Tessera.Keys.RotationPeriod", "must be at least one hour");
        }

        if (keys.PrePublication < TimeSpan.Zero || keys.PrePublication >= keys.RotationPeriod)
        {
            error("$.Tessera.Keys.PrePublication", "must be zero or more and shorter than RotationPeriod");
        }
    }

    private static void ValidateLifetimes(TesseraOptions options, Action<string, string> error)
    {
        void Positive(TimeSpan value, string path, TimeSpan max)
        {
            if (value <= TimeSpan.Zero || value > max)
            {
                error(path, $"must be positive and at most {max}");
            }
        }

        Positive(options.Tokens.AccessToken, "$.Tessera.Tokens.AccessToken", TimeSpan.FromDays(1));
        Positive(options.Tokens.IdentityToken, "$.Tessera.Tokens.IdentityToken", TimeSpan.FromDays(1));
        Positive(options.Tokens.AuthorizationCode, "$.Tessera.Tokens.AuthorizationCode", TimeSpan.FromMinutes(10));
        Positive(options.Tokens.RefreshToken, "$.Tessera.Tokens.RefreshToken", TimeSpan.FromDays(365));
        Positive(options.Sessions.IdleTimeout, "$.Tessera.Sessions.IdleTimeout", TimeSpan.FromDays(90));
        Positive(options.Sessions.AbsoluteLifetime, "$.Tessera.Sessions.AbsoluteLifetime", TimeSpan.FromDays(365));
        Positive(options.Portal.SetupLinkLifetime, "$.Tessera.Portal.SetupLinkLifetime", TimeSpan.FromDays(30));
        Positive(options.Portal.IdleTimeout, "$.Tessera.Portal.IdleTimeout", TimeSpan.FromDays(1));
        Positive(options.Portal.SessionLifetime, "$.Tessera.Portal.SessionLifetime", TimeSpan.FromDays(7));
        if (string.IsNullOrWhiteSpace(options.Sessions.CookieName) || !CookieNamePattern().IsMatch(options.Sessions.CookieName))
        {
            error("$.Tessera.Sessions.CookieName", "must be a plain cookie name (letters, digits, '.', '_', '-')");
        }
    }

    private static void ValidateClient(ClientOptions client, string path, HashSet<string> clientIds, Action<string, string> error)
    {
        if (!IdentifierPattern().IsMatch(client.ClientId))
        {
            error($"{path}.ClientId", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
        }
        else if (!clientIds.Add(client.ClientId))
        {
            error($"{path}.ClientId", $"'{client.ClientId}' is declared more than once");
        }

        var isPublic = client.Type == "public";
        if (client.Type is not ("public" or "confidential"))
        {
            error($"{path}.Type", "must be 'public' or 'confidential'");
        }

        if (isPublic && (!string.IsNullOrEmpty(client.ClientSecret) || !string.IsNullOrEmpty(client.Jwks)))
        {
            error($"{path}.ClientSecret", "a public client has no credentials; make it confidential or remove the secret");
        }

        if (client.Type == "confidential" && string.IsNullOrEmpty(client.ClientSecret) && string.IsNullOrEmpty(client.Jwks))
        {
            error($"{path}.ClientSecret", "a confidential client needs a ClientSecret or a Jwks for private_key_jwt");
        }

        if (!string.IsNullOrEmpty(client.ClientSecret) && client.ClientSecret.Length < 16)
        {
            error($"{path}.ClientSecret", "must be at least 16 characters (use 'tessera secret new' for a 256-bit secret)");
        }

        if (!string.IsNullOrEmpty(client.Jwks))
        {
            ValidateJwks(client.Jwks, $"{path}.Jwks", error);
        }

        if (client.GrantTypes.Count == 0)
        {
            error($"{path}.GrantTypes", "at least one grant type is required");
        }

        for (var g = 0; g < client.GrantTypes.Count; g++)
        {
            var grant = client.GrantTypes[g];
            if (!SupportedGrantTypes.Contains(grant))
            {
                error($"{path}.GrantTypes[{g}]", $"unsupported grant type '{grant}' (supported: {string.Join(", ", SupportedGrantTypes)})");
            }
            else if (grant is "client_credentials" or TokenExchangeGrant && isPublic)
            {
                error($"{path}.GrantTypes[{g}]", $"a public client cannot use {grant}: it has no credentials to prove who is exchanging");
            }
        }

        if (client.GrantTypes.Contains("refresh_token") && !client.GrantTypes.Contains("authorization_code"))
        {
            error($"{path}.GrantTypes", "refresh_token needs authorization_code: refresh tokens come only from sign-ins");
        }

        if (client.GrantTypes.Contains("authorization_code") && client.RedirectUris.Count == 0)
        {
            error($"{path}.RedirectUris", "authorization_code needs at least one redirect URI");
        }

        ValidateUris(client.RedirectUris, $"{path}.RedirectUris", error);
        ValidateUris(client.PostLogoutRedirectUris, $"{path}.PostLogoutRedirectUris", error);
        if (client.BackchannelLogoutUri is not null)
        {
            SignalOptionsValidator.ValidateHttpUri(client.BackchannelLogoutUri, $"{path}.BackchannelLogoutUri", error);
        }

        ValidateScopes(client.Scopes, $"{path}.Scopes", error);
        for (var a = 0; a < client.Audiences.Count; a++)
        {
            var audience = client.Audiences[a];
            if (string.IsNullOrWhiteSpace(audience) || audience.Contains('*', StringComparison.Ordinal) || audience.Any(char.IsWhiteSpace))
            {
                error($"{path}.Audiences[{a}]", "must be a non-empty identifier without spaces or wildcards");
            }
        }

        if (client.SigningAlgorithm is not ("ES256" or "RS256"))
        {
            error($"{path}.SigningAlgorithm", "must be ES256 or RS256");
        }

        if (client.AccessTokenLifetime is { } lifetime && (lifetime <= TimeSpan.Zero || lifetime > TimeSpan.FromDays(1)))
        {
            error($"{path}.AccessTokenLifetime", "must be positive and at most one day");
        }
    }

    private static void ValidateJwks(string jwks, string path, Action<string, string> error)
    {
        try
        {
            var set = new JsonWebKeySet(jwks);
            if (set.Keys.Count == 0)
            {
                error(path, "the key set holds no keys");
            }

            if (set.Keys.Any(k => k.HasPrivateKey || k.Kty == "oct"))
            {
                error(path, "must hold public keys only");
            }
        }
        catch (Exception exception) when (exception is ArgumentException or JsonException)
        {
            error(path, "is not a JSON Web Key Set");
        }
    }

    private static void ValidateUris(List<string> uris, string path, Action<string, string> error, bool indexed = true)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var u = 0; u < uris.Count; u++)
        {
            var at = indexed ? $"{path}[{u}]" : path;
            var value = uris[u];
            if (!IsAbsolute(value, out var uri))
            {
                error(at, "must be an absolute URI");
                continue;
            }

            // RFC 8252 §7.1: besides http(s), only private-use schemes in reverse-domain form (com.example.app:/cb).
            if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp && !uri.Scheme.Contains('.', StringComparison.Ordinal))
            {
                error(at, $"the scheme '{uri.Scheme}' is not allowed (https, http on loopback, or a reverse-domain private-use scheme)");
            }

            if (!string.IsNullOrEmpty(uri.Fragment))
            {
                error(at, "must not contain a fragment");
            }

            if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
            {
                error(at, "must use https unless the host is a loopback address");
            }

            if (!seen.Add(value))
            {
                error(at, "is listed twice");
            }
        }
    }

    /// <summary>Absolute as written: on Unix "/callback" would otherwise parse as a file URI.</summary>
    internal static bool IsAbsolute(string value, out Uri uri) =>
        Uri.TryCreate(value, UriKind.Absolute, out uri!) && value.StartsWith(uri.Scheme + ":", StringComparison.OrdinalIgnoreCase);

    internal static void ValidateScopes(List<string> scopes, string path, Action<string, string> error)
    {
        for (var s = 0; s < scopes.Count; s++)
        {
            var scope = scopes[s];
            if (scope.Contains('*', StringComparison.Ordinal))
            {
                error($"{path}[{s}]", "wildcard scopes do not exist; name each scope");
            }
            else if (!ScopeTokenPattern().IsMatch(scope))
            {
                // RFC 6749 §3.3 scope-token
                error($"{path}[{s}]", "is not a valid scope token");
            }
        }
    }

    private static void ValidateOrganization(TesseraOptions options, OrganizationOptions organization, string path, HashSet<string> organizationIds,
        HashSet<string> connectionIds, Dictionary<string, string> domains, HashSet<string> scimTokens, Action<string, string> error)
    {
        if (!IdentifierPattern().IsMatch(organization.Id))
        {
            error($"{path}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
        }
        else if (!organizationIds.Add(organization.Id))
        {
            error($"{path}.Id", $"'{organization.Id}' is declared more than once");
        }

        for (var d = 0; d < organization.Domains.Count; d++)
        {
            var domain = organization.Domains[d];
            if (!DomainPattern().IsMatch(domain))
            {
                error($"{path}.Domains[{d}]", "is not a domain name");
            }
            else if (domains.TryGetValue(domain, out var owner))
            {
                error($"{path}.Domains[{d}]", $"'{domain}' already belongs to organization '{owner}'");
            }
            else
            {
                domains[domain] = organization.Id;
            }
        }

        for (var c = 0; c < organization.Connections.Count; c++)
        {
            ValidateConnection(options, organization.Connections[c], $"{path}.Connections[{c}]", connectionIds, error);
        }

        ValidateRules(organization.Rules, $"{path}.Rules", error);
        ValidateScim(organization.Scim, $"{path}.Scim", scimTokens, error);
    }

    private static void ValidateScim(ScimOptions scim, string path, HashSet<string> tokens, Action<string, string> error)
    {
        if (scim.Match is not (ScimOptions.MatchEmail or ScimOptions.MatchExternalId))
        {
            error($"{path}.Match", $"must be '{ScimOptions.MatchEmail}' or '{ScimOptions.MatchExternalId}'");
        }

        for (var t = 0; t < scim.Tokens.Count; t++)
        {
            var token = scim.Tokens[t];
            if (string.IsNullOrEmpty(token) || token.Length < 32 || token.Any(char.IsWhiteSpace))
            {
                error($"{path}.Tokens[{t}]", "must be at least 32 characters without spaces (use 'tessera scim token create' or 'tessera secret new')");
            }
            else if (!tokens.Add(token))
            {
                // A token names the one directory it opens.
                error($"{path}.Tokens[{t}]", "is already a SCIM token of this or another organization");
            }
        }
    }

    internal static void ValidateRules(List<RuleOptions> rules, string path, Action<string, string> error)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            var rulePath = $"{path}[{r}]";
            if (rule.Id is not null && !IdentifierPattern().IsMatch(rule.Id))
            {
                error($"{rulePath}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
            }
            else if (rule.Id is not null && !ids.Add(rule.Id))
            {
                error($"{rulePath}.Id", $"rule id '{rule.Id}' is used more than once in this list");
            }

            if (rule.When.Count == 0)
            {
                error($"{rulePath}.When", "a rule needs at least one condition");
            }

            if (rule.Grant.Scopes.Count == 0 && rule.Grant.Claims.Count == 0)
            {
                error($"{rulePath}.Grant", "a rule must grant at least one scope or claim");
            }

            ValidateScopes(rule.Grant.Scopes, $"{rulePath}.Grant.Scopes", error);
            foreach (var claim in rule.Grant.Claims.Keys)
            {
                if (ReservedClaims.Contains(claim))
                {
                    error($"{rulePath}.Grant.Claims.{claim}", "this claim is set by Tessera and cannot be granted by a rule");
                }
            }
        }
    }

    internal static readonly HashSet<string> ReservedClaims = new(StringComparer.Ordinal)
    {
        "sub", "iss", "aud", "exp", "iat", "nbf", "jti", "sid", "org", "client_id", "scope", "azp", "nonce", "auth_time", "acr", "amr", "act", "may_act", "cnf",
        "email", "email_verified", "name", "given_name", "family_name",
    };

    private static void ValidateConnection(TesseraOptions options, ConnectionOptions connection, string path, HashSet<string> connectionIds, Action<string, string> error)
    {
        if (!IdentifierPattern().IsMatch(connection.Id))
        {
            error($"{path}.Id", "must be 1-100 characters of letters, digits, '.', '_', ':', '-'");
        }
        else if (!connectionIds.Add(connection.Id))
        {
            error($"{path}.Id", $"connection id '{connection.Id}' is used more than once (ids are global)");
        }

        if (connection.ClockSkew < TimeSpan.Zero || connection.ClockSkew > TimeSpan.FromMinutes(5))
        {
            error($"{path}.ClockSkew", "must be between 0 and 5 minutes");
        }

        if (connection.MaxSessionLifetime is { } max && max <= TimeSpan.Zero)
        {
            error($"{path}.MaxSessionLifetime", "must be positive");
        }

        if (Federation.ConnectionProtocols.Find(connection.Protocol) is null)
        {
            error($"{path}.Protocol", $"must be {string.Join(" or ", Federation.ConnectionProtocols.All.Select(p => $"'{p.Name}'"))}");
        }
    }

    // "/", or segments such as "/tenant-a" or "/idp/tenant-a/" (never "." or ".."), at most 200 characters.
    [GeneratedRegex(@"^(?=.{1,200}$)(/(?!\.\.?(/|$))[A-Za-z0-9._\-]+)*/?$")]
    private static partial Regex IssuerPath();

    [GeneratedRegex(@"^[A-Za-z0-9._:\-]{1,100}$")]
    internal static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]{1,200}$")]
    private static partial Regex ScopeTokenPattern();

    [GeneratedRegex(@"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")]
    private static partial Regex DomainPattern();

    [GeneratedRegex(@"^[A-Za-z0-9._\-]{1,64}$")]
    private static partial Regex CookieNamePattern();
}
