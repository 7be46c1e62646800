using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;

namespace Tessera.Saml;

/// <summary>
/// Verifies the enveloped XML signature of one element (a Response or an Assertion), strictly: exclusive
/// canonicalization only, enveloped-signature and exclusive canonicalization transforms only, one reference whose
/// ID resolves to exactly one element in the whole document and that element is the one being verified, an allowed
/// signature and digest algorithm, and a key from the configured certificates only (KeyInfo is ignored).
/// </summary>
public static class EnvelopedSignature
{
    private static readonly HashSet<string> AllowedTransforms = new(StringComparer.Ordinal) { SamlNames.EnvelopedSignature, SamlNames.ExclusiveC14n };

    static EnvelopedSignature() => EcdsaSha256SignatureDescription.Register();

    /// <summary>The direct ds:Signature child of <paramref name="element"/>, or null; two are an error.</summary>
    public static (XmlElement? Signature, SamlFailure? Failure) Find(XmlElement element)
    {
        XmlElement? found = null;
        foreach (XmlNode child in element.ChildNodes)
        {
            if (child is XmlElement { LocalName: "Signature", NamespaceURI: SamlNames.XmlDsig } signature)
            {
                if (found is not null)
                {
                    return (null, new SamlFailure(SamlRules.SignatureInvalid, $"The {element.LocalName} carries more than one signature."));
                }

                found = signature;
            }
        }

        return (found, null);
    }

    public static SamlFailure? Verify(XmlElement target, XmlElement signature, IReadOnlyList<X509Certificate2> certificates, SamlPolicy policy)
    {
        var signedXml = new ScopedSignedXml(target.OwnerDocument);
        try
        {
            signedXml.LoadXml(signature);
        }
        catch (CryptographicException)
        {
            return new SamlFailure(SamlRules.SignatureInvalid, "The signature element is malformed.");
        }

        var signedInfo = signedXml.SignedInfo!;
        if (signedInfo.CanonicalizationMethod != SamlNames.ExclusiveC14n)
        {
            return new SamlFailure(SamlRules.SignatureTransform, "Only exclusive canonicalization (without comments) is accepted.");
        }

        if (!AllowedSignatureMethods(policy).Contains(signedInfo.SignatureMethod ?? ""))
        {
            return new SamlFailure(SamlRules.SignatureAlgorithm, $"The signature algorithm is not allowed for this connection ({Short(signedInfo.SignatureMethod)}).");
        }

        if (signedInfo.References.Count != 1 || signedInfo.References[0] is not Reference reference)
        {
            return new SamlFailure(SamlRules.SignatureReference, "The signature must have exactly one reference.");
        }

        var id = target.GetAttribute("ID");
        if (string.IsNullOrEmpty(id) || reference.Uri != "#" + id)
        {
            return new SamlFailure(SamlRules.SignatureReference, $"The signature does not reference the {target.LocalName} it is inside.");
        }

        var transforms = new List<string>();
        for (var i = 0; i < reference.TransformChain.Count; i++)
        {
            transforms.Add(reference.TransformChain[i].Algorithm ?? "");
        }

        if (transforms.Any(t => !AllowedTransforms.Contains(t)) || transforms.Distinct(StringComparer.Ordinal).Count() != transforms.Count
            || !transforms.Contains(SamlNames.EnvelopedSignature))
        {
            return new SamlFailure(SamlRules.SignatureTransform, "Only the enveloped-signature and exclusive canonicalization transforms are accepted.");
        }

        if (!AllowedDigests(policy).Contains(reference.DigestMethod ?? ""))
        {
            return new SamlFailure(SamlRules.DigestAlgorithm, $"The digest algorithm is not allowed for this connection ({Short(reference.DigestMethod)}).");
        }

        foreach (var certificate in certificates)
        {
            using AsymmetricAlgorithm? key = (AsymmetricAlgorithm?)certificate.GetRSAPublicKey() ?? certificate.GetECDsaPublicKey();
            if (key is null)
            {
                continue;
            }

            bool valid;
            try
            {
                valid = signedXml.CheckSignature(key);
            }
            catch (CryptographicException)
            {
                valid = false; // e.g. an RSA method with an EC key: not this certificate
            }

            if (signedXml.Ambiguous)
            {
                return new SamlFailure(SamlRules.DuplicateId, "The referenced ID appears on more than one element.");
            }

            if (valid)
            {
                // Signature-wrapping defence: what was verified must be the very element the caller will read.
                return ReferenceEquals(signedXml.Resolved, target)
                    ? null
                    : new SamlFailure(SamlRules.SignatureReference, "The signature covers a different element than the one being read.");
            }
        }

        return new SamlFailure(SamlRules.SignatureInvalid, $"The {target.LocalName} signature does not verify with any trusted certificate.");
    }

    private static HashSet<string> AllowedSignatureMethods(SamlPolicy policy) => policy.AllowedAlgorithms
        .Where(SamlNames.SignatureAlgorithms.ContainsKey)
        .Select(name => SamlNames.SignatureAlgorithms[name])
        .Where(uri => uri != SamlNames.RsaSha1 || policy.AllowSha1)
        .ToHashSet(StringComparer.Ordinal);

    private static HashSet<string> AllowedDigests(SamlPolicy policy)
    {
        var digests = new HashSet<string>(StringComparer.Ordinal) { SamlNames.Sha256, SamlNames.Sha384, SamlNames.Sha512 };
        if (policy.AllowSha1)
        {
            digests.Add(SamlNames.Sha1);
        }

        return digests;
    }

    private static string Short(string? uri) => uri is null ? "none" : uri.Length > 100 ? uri[..100] : uri;

    /// <summary>Resolves a reference only when exactly one element in the document has that ID, and remembers which.</summary>
    private sealed class ScopedSignedXml(XmlDocument document) : SignedXml(document)
    {
        public XmlElement? Resolved { get; private set; }

        public bool Ambiguous { get; private set; }

        public override XmlElement? GetIdElement(XmlDocument? document, string idValue)
        {
            if (document is null)
            {
                return null;
            }

            XmlElement? match = null;
            foreach (var element in document.DocumentElement!.DescendantsAndSelf())
            {
                if (element.GetAttribute("ID") == idValue || element.GetAttribute("Id") == idValue || element.GetAttribute("id") == idValue)
                {
                    if (match is not null)
                    {
                        Ambiguous = true;
                        return null;
                    }

                    match = element;
                }
            }

            Resolved = match;
            return match;
        }
    }
}

internal static class XmlElementExtensions
{
    public static IEnumerable<XmlElement> DescendantsAndSelf(this XmlElement root)
    {
        yield return root;
        foreach (XmlNode node in root.GetElementsByTagName("*"))
        {
            if (node is XmlElement element)
            {
                yield return element;
            }
        }
    }

    /// <summary>Direct children with this name in this namespace.</summary>
    public static IEnumerable<XmlElement> Children(this XmlElement parent, string localName, string namespaceUri)
    {
        foreach (XmlNode node in parent.ChildNodes)
        {
            if (node is XmlElement element && element.LocalName == localName && element.NamespaceURI == namespaceUri)
            {
                yield return element;
            }
        }
    }

    public static XmlElement? Child(this XmlElement parent, string localName, string namespaceUri) =>
        parent.Children(localName, namespaceUri).FirstOrDefault();
}
