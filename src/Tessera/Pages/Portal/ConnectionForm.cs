using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tessera.Federation;
using Tessera.Hosting;

namespace Tessera.Pages.Portal;

/// <summary>
/// What an admin types into the portal for a connection: for OpenID Connect the issuer, client id and secret; for SAML
/// the IdP's metadata (XML or URL) or its entity id, sign-in URL and certificate. Everything else takes Tessera's
/// defaults; a new SAML connection gets its own SP signing key.
/// </summary>
public sealed class ConnectionForm
{
    public string? DisplayName { get; set; }
    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public string? MetadataXml { get; set; }
    public string? MetadataUrl { get; set; }
    public string? EntityId { get; set; }
    public string? SsoUrl { get; set; }
    public string? Certificate { get; set; }

    /// <summary>The field a configuration error's path points at, or null for the form as a whole.</summary>
    public static string? FieldOf(string path) => path switch
    {
        _ when path.StartsWith("$.Certificates", StringComparison.Ordinal) => nameof(Certificate),
        "$.Authority" or "$.ClientId" or "$.ClientSecret" or "$.MetadataXml" or "$.MetadataUrl" or "$.EntityId" or "$.SsoUrl" or "$.DisplayName" => path[2..],
        _ => null,
    };

    public static ConnectionForm From(ConnectionOptions options) => new()
    {
        DisplayName = options.DisplayName,
        Authority = options.Authority,
        ClientId = options.ClientId,
        MetadataXml = options.MetadataXml,
        MetadataUrl = options.MetadataUrl,
        EntityId = options.EntityId,
        SsoUrl = options.SsoUrl,
        Certificate = options.Certificates.FirstOrDefault(),
    };

    /// <param name="before">The connection as it was: its SP key and secret stay unless replaced.</param>
    public ConnectionOptions ToOptions(string id, string protocol, ConnectionOptions? before, TesseraIssuer issuer)
    {
        var options = new ConnectionOptions { Id = id, Protocol = protocol, DisplayName = Blank(DisplayName) };
        if (protocol == OidcConnectionProtocol.ProtocolName)
        {
            options.Authority = Blank(Authority)?.TrimEnd('/');
            options.ClientId = Blank(ClientId);
            options.ClientSecret = Blank(ClientSecret) ?? before?.ClientSecret;
        }
        else
        {
            // One source of trust: metadata as XML, else its URL, else the three values by hand.
            if (Blank(MetadataXml) is { } xml)
            {
                options.MetadataXml = xml;
            }
            else if (Blank(MetadataUrl) is { } url)
            {
                options.MetadataUrl = url;
            }
            else
            {
                options.EntityId = Blank(EntityId);
                options.SsoUrl = Blank(SsoUrl);
                options.Certificates = Blank(Certificate) is { } certificate ? [certificate] : [];
            }

            (options.SpCertificate, options.SpPrivateKey) = before?.SpCertificate is { } kept && before.SpPrivateKey is not null
                ? (kept, before.SpPrivateKey)
                : NewServiceProviderKey(issuer.Url($"/saml/{id}"));
        }

        TesseraOptionsDefaults.Apply(options);
        return options;
    }

    /// <summary>A signing key of Tessera's own for one SAML connection: IdPs that want signed AuthnRequests get them from the start.</summary>
    private static (string Certificate, string PrivateKey) NewServiceProviderKey(string entityId)
    {
        using var key = RSA.Create(3072);
        var request = new CertificateRequest($"CN={(entityId.Length > 60 ? entityId[..60] : entityId)}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(5));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
