using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tessera.Hosting;
using Tessera.Saml;

namespace Tessera.Federation;

/// <summary>
/// Reads a <c>saml2</c> connection's settings into what Tessera.Saml needs: the validation policy, the NameID format,
/// the SP key and certificates. <see cref="SamlConnectionProtocol"/> compiles a connection with the same reading, so
/// whatever starts also works at sign-in.
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
