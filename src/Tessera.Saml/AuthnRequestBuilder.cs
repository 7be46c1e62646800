using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;

namespace Tessera.Saml;

/// <summary>What one sign-in asks of the IdP.</summary>
public sealed record SamlAuthnRequest(string Id, DateTimeOffset IssueInstant)
{
    /// <summary>ForceAuthn: the user must authenticate again even with a live IdP session.</summary>
    public bool ForceAuthn { get; init; }

    /// <summary>Carried back unchanged by the IdP; Tessera puts its per-sign-in state here.</summary>
    public string? RelayState { get; init; }
}

/// <summary>
/// Builds an AuthnRequest (SAML 2.0 Core §3.4.1) and sends it with the HTTP-Redirect binding (Bindings §3.4): raw
/// DEFLATE, base64, query string, and when a signing key is set a query-string signature over
/// <c>SAMLRequest</c>, <c>RelayState</c> and <c>SigAlg</c> in that order (§3.4.4.1).
/// </summary>
public static class AuthnRequestBuilder
{
    /// <summary>AuthnRequest IDs are xs:ID (an NCName): they must not start with a digit.</summary>
    public static string NewId(string seed) => "_" + seed;

    public static string ToXml(SamlAuthnRequest request, SamlIdentityProvider idp, SamlServiceProvider sp)
    {
        var builder = new StringBuilder();
        var settings = new XmlWriterSettings { OmitXmlDeclaration = true, Encoding = new UTF8Encoding(false) };
        using (var writer = XmlWriter.Create(builder, settings))
        {
            writer.WriteStartElement("samlp", "AuthnRequest", SamlNames.Protocol);
            writer.WriteAttributeString("xmlns", "saml", null, SamlNames.Assertion);
            writer.WriteAttributeString("ID", request.Id);
            writer.WriteAttributeString("Version", "2.0");
            writer.WriteAttributeString("IssueInstant", Time(request.IssueInstant));
            writer.WriteAttributeString("Destination", idp.SingleSignOnUrl.AbsoluteUri);
            writer.WriteAttributeString("AssertionConsumerServiceURL", sp.AssertionConsumerServiceUrl.AbsoluteUri);
            writer.WriteAttributeString("ProtocolBinding", SamlNames.HttpPostBinding);
            if (request.ForceAuthn)
            {
                writer.WriteAttributeString("ForceAuthn", "true");
            }

            writer.WriteElementString("saml", "Issuer", SamlNames.Assertion, sp.EntityId);
            writer.WriteStartElement("samlp", "NameIDPolicy", SamlNames.Protocol);
            writer.WriteAttributeString("Format", sp.NameIdFormat ?? SamlNames.NameIdUnspecified);
            writer.WriteAttributeString("AllowCreate", "true");
            writer.WriteEndElement();
            writer.WriteEndElement();
        }

        return builder.ToString();
    }

    /// <summary>
    /// The URL that carries the request to the IdP's SSO service, signed with the SP's signing certificate when it
    /// has one and <paramref name="sign"/> is true.
    /// </summary>
    public static Uri RedirectUrl(SamlAuthnRequest request, SamlIdentityProvider idp, SamlServiceProvider sp, bool sign = true)
    {
        var query = new StringBuilder("SAMLRequest=").Append(Uri.EscapeDataString(Deflate(ToXml(request, idp, sp))));
        if (request.RelayState is { } relayState)
        {
            query.Append("&RelayState=").Append(Uri.EscapeDataString(relayState));
        }

        if (sp.SigningCertificate is { } certificate && sign)
        {
            var (algorithm, signature) = Signer(certificate);
            query.Append("&SigAlg=").Append(Uri.EscapeDataString(algorithm));
            var signed = query.ToString();
            query.Clear().Append(signed).Append("&Signature=").Append(Uri.EscapeDataString(Convert.ToBase64String(signature(Encoding.UTF8.GetBytes(signed)))));
        }

        var separator = string.IsNullOrEmpty(idp.SingleSignOnUrl.Query) ? "?" : "&";
        return new Uri(idp.SingleSignOnUrl.AbsoluteUri + separator + query);
    }

    /// <summary>Bindings §3.4.4.1: DEFLATE (RFC 1951, no zlib header), then base64.</summary>
    public static string Deflate(string xml)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(Encoding.UTF8.GetBytes(xml));
        }

        return Convert.ToBase64String(output.ToArray());
    }

    private static (string Algorithm, Func<byte[], byte[]> Sign) Signer(X509Certificate2 certificate)
    {
        if (certificate.GetRSAPrivateKey() is { } rsa)
        {
            return (SamlNames.RsaSha256, data =>
            {
                using (rsa)
                {
                    return rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                }
            }
            );
        }

        if (certificate.GetECDsaPrivateKey() is { } ecdsa)
        {
            return (SamlNames.EcdsaSha256, data =>
            {
                using (ecdsa)
                {
                    return ecdsa.SignData(data, HashAlgorithmName.SHA256);
                }
            }
            );
        }

        throw new InvalidOperationException("The service provider's signing certificate has no usable private key.");
    }

    internal static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
