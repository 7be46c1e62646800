using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tessera.Hosting;
using Tessera.Saml;

namespace Tessera.Federation;

/// <summary>
/// Reads a <c>saml2</c> connection's settings into what Tessera.Saml needs: Tessera as the service provider, the
/// validation policy, and certificates. The configuration validator uses the same reading, so whatever starts
/// also works at sign-in.
/// </summary>
public static class SamlConnectionSettings
{
    public static readonly IReadOnlyDictionary<string, string> NameIdFormats = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["persistent"] = SamlNames.NameIdPersistent,
        ["transient"] = SamlNames.NameIdTransient,
        ["emailAddress"] = SamlNames.NameIdEmail,
        ["unspecified"] = SamlNames.NameIdUnspecified,
    };

    public static string SpEntityId(TesseraIssuer issuer, ConnectionOptions connection) =>
        string.IsNullOrEmpty(connection.SpEntityId) ? issuer.Url($"/saml/{connection.Id}") : connection.SpEntityId;

    public static Uri AcsUrl(TesseraIssuer issuer, ConnectionOptions connection) =>
        new(string.IsNullOrEmpty(connection.AcsUrl) ? issuer.Url($"/saml/{connection.Id}/acs") : connection.AcsUrl);

    public static string NameIdFormat(ConnectionOptions connection) =>
        NameIdFormats.TryGetValue(connection.NameIdFormat, out var urn) ? urn : connection.NameIdFormat;

    /// <summary>Requests are signed when the connection has an SP key, unless SignAuthnRequests is false.</summary>
    public static bool SignsRequests(ConnectionOptions connection) =>
        connection.SignAuthnRequests != false && !string.IsNullOrEmpty(connection.SpPrivateKey);

    public static SamlPolicy Policy(ConnectionOptions connection) => new()
    {
        RequireSignedAssertions = connection.RequireSignedAssertions,
        ClockSkew = connection.ClockSkew,
        AllowedAlgorithms = connection.AllowedAlgorithms,
        AllowSha1 = connection.AllowSha1,
        AllowUnsolicited = connection.AllowIdpInitiated,
    };

    /// <summary>
    /// Tessera as this connection's SP, made once per configuration version: loading the SP key from PEM costs more
    /// than validating a response, and sign-in, the ACS and the metadata endpoint all need it.
    /// </summary>
    public static SamlServiceProvider ServiceProvider(TesseraIssuer issuer, ConnectionOptions connection)
    {
        var made = ServiceProviders.GetValue(connection, c => new MadeServiceProvider(issuer.Name, CreateServiceProvider(issuer, c)));
        return made.Issuer == issuer.Name ? made.ServiceProvider : CreateServiceProvider(issuer, connection);
    }

    private static readonly ConditionalWeakTable<ConnectionOptions, MadeServiceProvider> ServiceProviders = [];

    private sealed record MadeServiceProvider(string Issuer, SamlServiceProvider ServiceProvider);

    private static SamlServiceProvider CreateServiceProvider(TesseraIssuer issuer, ConnectionOptions connection)
    {
        var key = SpKey(connection);
        return new SamlServiceProvider(SpEntityId(issuer, connection), AcsUrl(issuer, connection))
        {
            NameIdFormat = NameIdFormat(connection),
            SigningCertificate = key,
            DecryptionCertificate = key,
        };
    }

    /// <summary>The SP certificate with its private key, or null when the connection has none.</summary>
    public static X509Certificate2? SpKey(ConnectionOptions connection)
    {
        if (string.IsNullOrEmpty(connection.SpCertificate) || string.IsNullOrEmpty(connection.SpPrivateKey))
        {
            return null;
        }

        var certificate = X509Certificate2.CreateFromPem(connection.SpCertificate, connection.SpPrivateKey);
        if (!certificate.HasPrivateKey)
        {
            throw new CryptographicException("The private key does not belong to the certificate.");
        }

        return certificate;
    }

    /// <summary>A certificate written as PEM or as base64 DER (the form metadata uses).</summary>
    public static X509Certificate2 Certificate(string text)
    {
        var trimmed = text.Trim();
        return trimmed.StartsWith("-----BEGIN", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPem(trimmed)
            : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(trimmed));
    }

    public static IReadOnlyList<X509Certificate2> Certificates(IEnumerable<string> texts) => texts.Select(Certificate).ToList();
}
