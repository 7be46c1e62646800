using System.Security.Cryptography;
using Tessera.Hosting;
using Tessera.Saml;

namespace Tessera.Federation;

/// <summary>
/// SAML 2.0 connections, checked the way sign-in will read them: one source of IdP trust that parses (metadata is
/// read, its signature checked when required), certificates and the SP key that load, algorithm names Tessera
/// knows, and an IdP-initiated landing that belongs to a configured client. Compiled into Tessera as this
/// connection's service provider (entity id, ACS, SP key) and the validation policy, made once per configuration.
/// </summary>
public sealed class SamlConnectionProtocol : IConnectionProtocol
{
    public const string ProtocolName = "saml2";

    private static readonly HashSet<string> ProfileClaims = new(StringComparer.Ordinal) { "email", "name", "given_name", "family_name" };

    public string Name => ProtocolName;

    public string CallbackRoute => "saml/{connectionId}/acs";

    public string CallbackPath(ConnectionOptions connection) => $"saml/{connection.Id}/acs";

    public object? Compile(ConnectionCompilation compilation)
    {
        var (connection, path) = (compilation.Connection, compilation.Path);
        var failed = false;
        void Error(string at, string reason)
        {
            failed = true;
            compilation.Error(at, reason);
        }

        Validate(compilation.Configuration, connection, path, Error);
        return failed ? null : new SamlConnectionModel(
            ServiceProvider(compilation.Issuer, connection),
            SamlConnectionSettings.Policy(connection),
            SamlConnectionSettings.SignsRequests(connection));
    }

    private static SamlServiceProvider ServiceProvider(TesseraIssuer issuer, ConnectionOptions connection)
    {
        var key = SamlConnectionSettings.SpKey(connection);
        var entityId = string.IsNullOrEmpty(connection.SpEntityId) ? issuer.Url($"/saml/{connection.Id}") : connection.SpEntityId;
        var acs = new Uri(string.IsNullOrEmpty(connection.AcsUrl) ? issuer.Url($"/saml/{connection.Id}/acs") : connection.AcsUrl);
        return new SamlServiceProvider(entityId, acs)
        {
            NameIdFormat = SamlConnectionSettings.NameIdFormat(connection),
            SigningCertificate = key,
            DecryptionCertificate = key,
        };
    }

    private static void Validate(TesseraOptions options, ConnectionOptions connection, string path, Action<string, string> error)
    {
        ValidateTrust(connection, path, options.Network.AllowPrivateUpstreams, error);
        ValidateServiceProvider(connection, path, error);

        for (var a = 0; a < connection.AllowedAlgorithms.Count; a++)
        {
            var algorithm = connection.AllowedAlgorithms[a];
            if (!SamlNames.SignatureAlgorithms.ContainsKey(algorithm))
            {
                error($"{path}.AllowedAlgorithms[{a}]", $"'{algorithm}' is not a SAML signature algorithm Tessera knows ({string.Join(", ", SamlNames.SignatureAlgorithms.Keys)})");
            }
            else if (algorithm == "RSA-SHA1" && !connection.AllowSha1)
            {
                error($"{path}.AllowedAlgorithms[{a}]", "RSA-SHA1 needs AllowSha1: true (SHA-1 is refused by default)");
            }
        }

        if (!SamlConnectionSettings.NameIdFormats.ContainsKey(connection.NameIdFormat) && !connection.NameIdFormat.StartsWith("urn:", StringComparison.Ordinal))
        {
            error($"{path}.NameIdFormat", "must be persistent, transient, emailAddress, unspecified or a NameID format URN");
        }

        for (var m = 0; m < connection.AttributeClaims.Count; m++)
        {
            var mapping = connection.AttributeClaims[m];
            if (string.IsNullOrWhiteSpace(mapping.Attribute))
            {
                error($"{path}.AttributeClaims[{m}].Attribute", "the SAML attribute name is required");
            }

            if (string.IsNullOrWhiteSpace(mapping.Claim) || mapping.Claim.Length > 100
                || (TesseraOptionsValidator.ReservedClaims.Contains(mapping.Claim) && !ProfileClaims.Contains(mapping.Claim)))
            {
                error($"{path}.AttributeClaims[{m}].Claim", "a claim name is required; claims Tessera sets itself (sub, iss, aud, ...) cannot be mapped");
            }
        }

        if (connection.AllowIdpInitiated)
        {
            ValidateIdpInitiated(options, connection, path, error);
        }
    }

    private static void ValidateTrust(ConnectionOptions connection, string path, bool allowPrivateUpstreams, Action<string, string> error)
    {
        var explicitTrust = !string.IsNullOrEmpty(connection.EntityId) || !string.IsNullOrEmpty(connection.SsoUrl) || connection.Certificates.Count > 0;
        var sources = (string.IsNullOrEmpty(connection.MetadataXml) ? 0 : 1) + (string.IsNullOrEmpty(connection.MetadataUrl) ? 0 : 1) + (explicitTrust ? 1 : 0);
        if (sources != 1)
        {
            error(path, "a SAML connection needs exactly one of MetadataXml, MetadataUrl, or EntityId + SsoUrl + Certificates");
            return;
        }

        var signers = LoadCertificates(connection.MetadataSigningCertificates, $"{path}.MetadataSigningCertificates", error);
        if (!string.IsNullOrEmpty(connection.MetadataXml))
        {
            var (idp, problem) = SamlMetadata.ReadIdentityProvider(connection.MetadataXml, signers, TimeProvider.System.GetUtcNow());
            if (problem is not null)
            {
                error($"{path}.MetadataXml", problem);
            }
            else if (idp!.WantsSignedRequests && !SamlConnectionSettings.SignsRequests(connection))
            {
                error($"{path}.SpPrivateKey", "the IdP's metadata asks for signed AuthnRequests (WantAuthnRequestsSigned); give the connection SpCertificate and SpPrivateKey, and do not set SignAuthnRequests to false");
            }
        }
        else if (!string.IsNullOrEmpty(connection.MetadataUrl))
        {
            if (CheckHttpUrl(connection.MetadataUrl, $"{path}.MetadataUrl", error) && !allowPrivateUpstreams
                && UpstreamAddressPolicy.NamesNonPublicHost(new Uri(connection.MetadataUrl)))
            {
                error($"{path}.MetadataUrl", UpstreamAddressPolicy.ConfigurationRefusal);
            }
            if (connection.MetadataRefreshInterval < TimeSpan.FromMinutes(1) || connection.MetadataRefreshInterval > TimeSpan.FromDays(7))
            {
                error($"{path}.MetadataRefreshInterval", "must be between 1 minute and 7 days");
            }
        }
        else
        {
            if (string.IsNullOrWhiteSpace(connection.EntityId))
            {
                error($"{path}.EntityId", "the IdP's entity id is required with explicit settings");
            }

            CheckHttpUrl(connection.SsoUrl ?? "", $"{path}.SsoUrl", error);
            if (connection.Certificates.Count == 0)
            {
                error($"{path}.Certificates", "at least one IdP signing certificate is required");
            }

            LoadCertificates(connection.Certificates, $"{path}.Certificates", error);
        }
    }

    private static void ValidateServiceProvider(ConnectionOptions connection, string path, Action<string, string> error)
    {
        if (connection.SpEntityId is { } entityId && (entityId.Length is 0 or > 1024))
        {
            error($"{path}.SpEntityId", "must be 1-1024 characters");
        }

        if (!string.IsNullOrEmpty(connection.AcsUrl))
        {
            CheckHttpUrl(connection.AcsUrl, $"{path}.AcsUrl", error);
        }

        if (string.IsNullOrEmpty(connection.SpCertificate) != string.IsNullOrEmpty(connection.SpPrivateKey))
        {
            error($"{path}.SpPrivateKey", "SpCertificate and SpPrivateKey go together");
            return;
        }

        try
        {
            using var key = SamlConnectionSettings.SpKey(connection);
            if (key is null && connection.SignAuthnRequests == true)
            {
                error($"{path}.SignAuthnRequests", "signing AuthnRequests needs SpCertificate and SpPrivateKey");
            }
        }
        catch (CryptographicException)
        {
            error($"{path}.SpCertificate", "the SP certificate and private key (PEM) could not be read, or do not belong together");
        }
    }

    private static void ValidateIdpInitiated(TesseraOptions options, ConnectionOptions connection, string path, Action<string, string> error)
    {
        var client = options.Clients.FirstOrDefault(c => c.ClientId == connection.IdpInitiatedClientId);
        if (client is null || !client.GrantTypes.Contains("authorization_code"))
        {
            error($"{path}.IdpInitiatedClientId", "IdP-initiated sign-in needs a configured client with the authorization_code grant to land on");
            return;
        }

        if (string.IsNullOrEmpty(connection.IdpInitiatedLoginUri) || !CheckHttpUrl(connection.IdpInitiatedLoginUri, $"{path}.IdpInitiatedLoginUri", error))
        {
            if (string.IsNullOrEmpty(connection.IdpInitiatedLoginUri))
            {
                error($"{path}.IdpInitiatedLoginUri", "IdP-initiated sign-in needs the client's login-initiation URL");
            }

            return;
        }

        var origin = new Uri(connection.IdpInitiatedLoginUri).GetLeftPart(UriPartial.Authority);
        if (!client.RedirectUris.Any(r => Uri.TryCreate(r, UriKind.Absolute, out var redirect) && redirect.GetLeftPart(UriPartial.Authority) == origin))
        {
            error($"{path}.IdpInitiatedLoginUri", $"must be on the same origin as one of client '{client.ClientId}' redirect URIs");
        }
    }

    private static bool CheckHttpUrl(string value, string path, Action<string, string> error)
    {
        if (!TesseraOptionsValidator.IsAbsolute(value, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            error(path, "an absolute https URL is required");
            return false;
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            error(path, "must use https unless the host is a loopback address");
            return false;
        }

        return true;
    }

    private static List<System.Security.Cryptography.X509Certificates.X509Certificate2> LoadCertificates(List<string> texts, string path, Action<string, string> error)
    {
        var certificates = new List<System.Security.Cryptography.X509Certificates.X509Certificate2>();
        for (var c = 0; c < texts.Count; c++)
        {
            try
            {
                certificates.Add(SamlConnectionSettings.Certificate(texts[c]));
            }
            catch (Exception exception) when (exception is CryptographicException or FormatException)
            {
                error($"{path}[{c}]", "is not a certificate (PEM or base64 DER)");
            }
        }

        return certificates;
    }
}

/// <summary>A SAML connection compiled: Tessera as its service provider, how its responses are validated, whether AuthnRequests are signed.</summary>
public sealed record SamlConnectionModel(SamlServiceProvider ServiceProvider, SamlPolicy Policy, bool SignsRequests);
