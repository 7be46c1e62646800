using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;

namespace Tessera.Saml;

/// <summary>
/// SAML 2.0 metadata (SAML Metadata §2): reads an IdP's EntityDescriptor (entity id, HTTP-Redirect SSO endpoint,
/// every signing certificate, so a rollover in progress keeps working) and writes Tessera's SP descriptor.
/// </summary>
public static class SamlMetadata
{
    public const int MaxMetadataBytes = 1024 * 1024;

    /// <summary>
    /// Reads IdP metadata. When <paramref name="metadataSigners"/> is non-empty the document must carry an enveloped
    /// signature by one of them on its root element.
    /// </summary>
    public static (SamlIdentityProvider? IdentityProvider, string? Error) ReadIdentityProvider(
        string xml, IReadOnlyList<X509Certificate2> metadataSigners, DateTimeOffset now)
    {
        var bytes = Encoding.UTF8.GetBytes(xml);
        if (bytes.Length > MaxMetadataBytes)
        {
            return (null, "The metadata is larger than 1 MiB.");
        }

        var (document, failure) = SecureXml.Load(bytes, MaxMetadataBytes);
        if (failure is not null)
        {
            return (null, $"The metadata could not be read ({failure.Description})");
        }

        var root = document!.DocumentElement!;
        if (metadataSigners.Count > 0)
        {
            var (signature, signatureFailure) = EnvelopedSignature.Find(root);
            if (signatureFailure is not null || signature is null)
            {
                return (null, "The metadata is not signed, and this connection requires a metadata signature.");
            }

            if (EnvelopedSignature.Verify(root, signature, metadataSigners, new SamlPolicy()) is { } invalid)
            {
                return (null, $"The metadata signature is not valid ({invalid.Description})");
            }
        }

        var entities = root is { LocalName: "EntitiesDescriptor", NamespaceURI: SamlNames.Metadata }
            ? root.Children("EntityDescriptor", SamlNames.Metadata).Where(e => e.Child("IDPSSODescriptor", SamlNames.Metadata) is not null).ToList()
            : root is { LocalName: "EntityDescriptor", NamespaceURI: SamlNames.Metadata } ? [root] : [];
        if (entities.Count != 1)
        {
            return (null, "The metadata must describe exactly one identity provider (an EntityDescriptor with an IDPSSODescriptor).");
        }

        var entity = entities[0];
        if (Expired(root, now) || Expired(entity, now))
        {
            return (null, "The metadata has expired (validUntil is in the past).");
        }

        var entityId = entity.GetAttribute("entityID");
        var descriptor = entity.Children("IDPSSODescriptor", SamlNames.Metadata)
            .FirstOrDefault(d => d.GetAttribute("protocolSupportEnumeration").Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(SamlNames.Protocol));
        if (entityId.Length == 0 || descriptor is null)
        {
            return (null, "The metadata has no entityID or no SAML 2.0 IDPSSODescriptor.");
        }

        var sso = descriptor.Children("SingleSignOnService", SamlNames.Metadata)
            .FirstOrDefault(s => s.GetAttribute("Binding") == SamlNames.HttpRedirectBinding)?.GetAttribute("Location");
        if (!Uri.TryCreate(sso, UriKind.Absolute, out var ssoUrl) || ssoUrl.Scheme is not ("https" or "http"))
        {
            return (null, "The metadata has no HTTP-Redirect SingleSignOnService.");
        }

        var certificates = new List<X509Certificate2>();
        foreach (var key in descriptor.Children("KeyDescriptor", SamlNames.Metadata))
        {
            if (key.GetAttribute("use") is not ("" or "signing"))
            {
                continue;
            }

            foreach (XmlNode node in key.GetElementsByTagName("X509Certificate", SamlNames.XmlDsig))
            {
                try
                {
                    certificates.Add(X509CertificateLoader.LoadCertificate(Convert.FromBase64String(node.InnerText.Trim())));
                }
                catch (Exception exception) when (exception is FormatException or CryptographicException)
                {
                    return (null, "A signing certificate in the metadata could not be read.");
                }
            }
        }

        if (certificates.Count == 0)
        {
            return (null, "The metadata names no signing certificate.");
        }

        return (new SamlIdentityProvider(entityId, ssoUrl, certificates)
        {
            WantsSignedRequests = descriptor.GetAttribute("WantAuthnRequestsSigned") is "true" or "1",
        }, null);
    }

    /// <summary>The SP descriptor a customer's admin pastes into their IdP.</summary>
    /// <param name="signsRequests">Whether Tessera signs its AuthnRequests on this connection (AuthnRequestsSigned).</param>
    public static string WriteServiceProvider(SamlServiceProvider sp, bool wantAssertionsSigned, bool signsRequests)
    {
        // Written as UTF-8 bytes, so the declaration says what the document is sent as.
        using var output = new MemoryStream();
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) };
        using (var writer = XmlWriter.Create(output, settings))
        {
            writer.WriteStartElement("md", "EntityDescriptor", SamlNames.Metadata);
            writer.WriteAttributeString("entityID", sp.EntityId);
            writer.WriteStartElement("md", "SPSSODescriptor", SamlNames.Metadata);
            writer.WriteAttributeString("AuthnRequestsSigned", signsRequests && sp.SigningCertificate is not null ? "true" : "false");
            writer.WriteAttributeString("WantAssertionsSigned", wantAssertionsSigned ? "true" : "false");
            writer.WriteAttributeString("protocolSupportEnumeration", SamlNames.Protocol);
            WriteKey(writer, "signing", sp.SigningCertificate, []);
            WriteKey(writer, "encryption", sp.DecryptionCertificate, [SamlNames.Aes256Gcm, SamlNames.Aes128Gcm, SamlNames.Aes256Cbc, SamlNames.Aes128Cbc, SamlNames.RsaOaepMgf1p]);
            writer.WriteElementString("md", "NameIDFormat", SamlNames.Metadata, sp.NameIdFormat ?? SamlNames.NameIdPersistent);
            writer.WriteStartElement("md", "AssertionConsumerService", SamlNames.Metadata);
            writer.WriteAttributeString("Binding", SamlNames.HttpPostBinding);
            writer.WriteAttributeString("Location", sp.AssertionConsumerServiceUrl.AbsoluteUri);
            writer.WriteAttributeString("index", "0");
            writer.WriteAttributeString("isDefault", "true");
            writer.WriteEndElement();
            writer.WriteEndElement();
            writer.WriteEndElement();
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static void WriteKey(XmlWriter writer, string use, X509Certificate2? certificate, IReadOnlyList<string> methods)
    {
        if (certificate is null)
        {
            return;
        }

        writer.WriteStartElement("md", "KeyDescriptor", SamlNames.Metadata);
        writer.WriteAttributeString("use", use);
        writer.WriteStartElement("ds", "KeyInfo", SamlNames.XmlDsig);
        writer.WriteStartElement("ds", "X509Data", SamlNames.XmlDsig);
        writer.WriteElementString("ds", "X509Certificate", SamlNames.XmlDsig, Convert.ToBase64String(certificate.RawData));
        writer.WriteEndElement();
        writer.WriteEndElement();
        foreach (var method in methods)
        {
            writer.WriteStartElement("md", "EncryptionMethod", SamlNames.Metadata);
            writer.WriteAttributeString("Algorithm", method);
            writer.WriteEndElement();
        }

        writer.WriteEndElement();
    }

    private static bool Expired(XmlElement element, DateTimeOffset now) =>
        element.GetAttribute("validUntil") is { Length: > 0 } validUntil
        && (!DateTimeOffset.TryParse(validUntil, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var until) || until <= now);
}
