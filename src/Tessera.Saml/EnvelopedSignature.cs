using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml;

namespace Tessera.Saml;

/// <summary>
/// Verifies the enveloped XML signature of one element (a Response or an Assertion), strictly: exclusive
/// canonicalization only, exactly the enveloped-signature and exclusive canonicalization transforms, one reference
/// whose ID names exactly one element in the whole document and that element is the one being verified, an allowed
/// signature and digest algorithm, and a key from the configured certificates only (KeyInfo is never used to verify;
/// once verification has failed, its certificate's fingerprint is reported so an administrator can see which
/// certificate the IdP signed with). The digest is computed over the very element the caller then reads,
/// canonicalized from the parsed document.
/// </summary>
public static class EnvelopedSignature
{
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
        // XML Signature §4.4: SignedInfo, SignatureValue, then KeyInfo and Objects, which are never trusted or read.
        var signedInfo = signature.Child("SignedInfo", SamlNames.XmlDsig);
        var signatureValue = signature.Child("SignatureValue", SamlNames.XmlDsig);
        if (signedInfo is null || signatureValue is null || !TryBase64(signatureValue.InnerText, out var signatureBytes))
        {
            return new SamlFailure(SamlRules.SignatureInvalid, "The signature element is malformed.");
        }

        var parts = signedInfo.ChildNodes.OfType<XmlElement>().ToList();
        var canonicalization = parts.FirstOrDefault();
        if (canonicalization is not { LocalName: "CanonicalizationMethod", NamespaceURI: SamlNames.XmlDsig }
            || canonicalization.GetAttribute("Algorithm") != SamlNames.ExclusiveC14n)
        {
            return new SamlFailure(SamlRules.SignatureTransform, "Only exclusive canonicalization (without comments) is accepted.");
        }

        var method = parts.ElementAtOrDefault(1);
        var signatureMethod = method is { LocalName: "SignatureMethod", NamespaceURI: SamlNames.XmlDsig } ? method.GetAttribute("Algorithm") : "";
        if (!IsAllowedSignatureMethod(policy, signatureMethod) || method!.HasChildNodes)
        {
            return new SamlFailure(SamlRules.SignatureAlgorithm, $"The signature algorithm is not allowed for this connection ({Short(signatureMethod)}).")
            {
                Expected = string.Join(", ", AllowedSignatureMethods(policy)),
                Received = ReportedValue.Of(signatureMethod),
            };
        }

        if (parts.Count != 3 || parts[2] is not { LocalName: "Reference", NamespaceURI: SamlNames.XmlDsig } reference)
        {
            return new SamlFailure(SamlRules.SignatureReference, "The signature must have exactly one reference.");
        }

        var id = target.GetAttribute("ID");
        if (string.IsNullOrEmpty(id) || reference.GetAttribute("URI") != "#" + id)
        {
            return new SamlFailure(SamlRules.SignatureReference, $"The signature does not reference the {target.LocalName} it is inside.");
        }

        var (inclusivePrefixes, transformFailure) = ReadTransforms(reference);
        if (transformFailure is not null)
        {
            return transformFailure;
        }

        var digestMethod = reference.Child("DigestMethod", SamlNames.XmlDsig)?.GetAttribute("Algorithm") ?? "";
        var digestValue = reference.Child("DigestValue", SamlNames.XmlDsig)?.InnerText;
        if (!IsAllowedDigest(policy, digestMethod))
        {
            return new SamlFailure(SamlRules.DigestAlgorithm, $"The digest algorithm is not allowed for this connection ({Short(digestMethod)}).")
            {
                Expected = string.Join(", ", AllowedDigests(policy)),
                Received = ReportedValue.Of(digestMethod),
            };
        }

        // The ID must name exactly one element in the whole document, the one being read (signature wrapping defence).
        var holders = target.OwnerDocument.DocumentElement!.DescendantsAndSelf()
            .Where(e => e.GetAttribute("ID") == id || e.GetAttribute("Id") == id || e.GetAttribute("id") == id).Take(2).ToList();
        if (holders.Count > 1)
        {
            return new SamlFailure(SamlRules.DuplicateId, "The referenced ID appears on more than one element.");
        }

        if (holders.Count == 0 || !ReferenceEquals(holders[0], target))
        {
            return new SamlFailure(SamlRules.SignatureReference, "The signature covers a different element than the one being read.");
        }

        if (digestValue is null || !TryBase64(digestValue, out var expectedDigest)
            || !CryptographicOperations.FixedTimeEquals(Digest(digestMethod, ExclusiveCanonicalizer.Canonicalize(target, signature, inclusivePrefixes)), expectedDigest))
        {
            return new SamlFailure(SamlRules.SignatureInvalid, $"The {target.LocalName} was changed after it was signed.");
        }

        var signedBytes = ExclusiveCanonicalizer.Canonicalize(signedInfo, null, InclusivePrefixes(canonicalization));
        foreach (var certificate in certificates)
        {
            if (VerifySignature(PublicKey(certificate), signatureMethod, signedBytes, signatureBytes))
            {
                return null;
            }
        }

        // Verification has failed: only now is KeyInfo read, and only to say which certificate the IdP used.
        return new SamlFailure(SamlRules.SignatureInvalid, $"The {target.LocalName} signature does not verify with any trusted certificate.")
        {
            Expected = string.Join(", ", certificates.Select(CertificateFingerprint.Sha256)),
            Received = KeyInfoFingerprints(signature),
        };
    }

    /// <summary>Fingerprints of the certificates a signature's KeyInfo carries, for reporting; they are never parsed or trusted.</summary>
    private static string? KeyInfoFingerprints(XmlElement signature)
    {
        var certificates = signature.Child("KeyInfo", SamlNames.XmlDsig)?.Children("X509Data", SamlNames.XmlDsig)
            .SelectMany(data => data.Children("X509Certificate", SamlNames.XmlDsig)) ?? [];
        var fingerprints = new List<string>();
        foreach (var certificate in certificates.Take(3))
        {
            if (TryBase64(certificate.InnerText, out var der) && der.Length > 0)
            {
                fingerprints.Add(CertificateFingerprint.Sha256(der));
            }
        }

        return fingerprints.Count == 0 ? null : string.Join(", ", fingerprints);
    }

    /// <summary>Exactly the enveloped-signature transform, then exclusive canonicalization.</summary>
    private static (IReadOnlyCollection<string> InclusivePrefixes, SamlFailure? Failure) ReadTransforms(XmlElement reference)
    {
        var transforms = reference.Child("Transforms", SamlNames.XmlDsig)?.ChildNodes.OfType<XmlElement>().ToList() ?? [];
        // The enveloped-signature transform takes no parameters (XML Signature §6.6.4); some signers (xml-crypto)
        // still write one from another namespace there, which changes nothing and is ignored. A parameter in the
        // signature namespace (an XPath filter) would change what is signed and is refused.
        if (transforms.Count != 2 || transforms.Any(t => t is not { LocalName: "Transform", NamespaceURI: SamlNames.XmlDsig })
            || transforms[0].GetAttribute("Algorithm") != SamlNames.EnvelopedSignature
            || transforms[0].ChildNodes.OfType<XmlElement>().Any(p => p.NamespaceURI == SamlNames.XmlDsig)
            || transforms[1].GetAttribute("Algorithm") != SamlNames.ExclusiveC14n)
        {
            return ([], new SamlFailure(SamlRules.SignatureTransform, "Only the enveloped-signature and exclusive canonicalization transforms are accepted."));
        }

        return (InclusivePrefixes(transforms[1]), null);
    }

    /// <summary>Exclusive c14n §3: the optional InclusiveNamespaces PrefixList.</summary>
    private static string[] InclusivePrefixes(XmlElement method) =>
        method.Child("InclusiveNamespaces", SamlNames.ExclusiveC14n)?.GetAttribute("PrefixList")
            .Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries) ?? [];

    private static byte[] Digest(string method, byte[] data) => method switch
    {
        SamlNames.Sha1 => SHA1.HashData(data),
        SamlNames.Sha384 => SHA384.HashData(data),
        SamlNames.Sha512 => SHA512.HashData(data),
        _ => SHA256.HashData(data),
    };

    private static bool VerifySignature(AsymmetricAlgorithm? key, string method, byte[] data, byte[] signature)
    {
        try
        {
            return (key, method) switch
            {
                (RSA rsa, SamlNames.RsaSha256) => rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                (RSA rsa, SamlNames.RsaSha384) => rsa.VerifyData(data, signature, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
                (RSA rsa, SamlNames.RsaSha512) => rsa.VerifyData(data, signature, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1),
                (RSA rsa, SamlNames.RsaSha1) => rsa.VerifyData(data, signature, HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1),
                // RFC 4051 §2.3.6: the value is r || s, which is .NET's default signature format.
                (ECDsa ecdsa, SamlNames.EcdsaSha256) => ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromBase64String(text.Trim());
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }

    /// <summary>
    /// One public key object per trusted certificate, made once: extracting it costs more than the RSA check itself.
    /// Verification never changes the key, which is what makes sharing it across threads safe.
    /// </summary>
    private static AsymmetricAlgorithm? PublicKey(X509Certificate2 certificate) =>
        PublicKeys.GetValue(certificate, c => new KeyHolder((AsymmetricAlgorithm?)c.GetRSAPublicKey() ?? c.GetECDsaPublicKey())).Key;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<X509Certificate2, KeyHolder> PublicKeys = [];

    private sealed record KeyHolder(AsymmetricAlgorithm? Key);

    private static bool IsAllowedSignatureMethod(SamlPolicy policy, string uri)
    {
        foreach (var name in policy.AllowedAlgorithms)
        {
            if (SamlNames.SignatureAlgorithms.TryGetValue(name, out var allowed) && allowed == uri)
            {
                return uri != SamlNames.RsaSha1 || policy.AllowSha1;
            }
        }

        return false;
    }

    private static IEnumerable<string> AllowedSignatureMethods(SamlPolicy policy) =>
        SamlNames.SignatureAlgorithms.Values.Where(uri => IsAllowedSignatureMethod(policy, uri));

    private static IEnumerable<string> AllowedDigests(SamlPolicy policy) =>
        new[] { SamlNames.Sha256, SamlNames.Sha384, SamlNames.Sha512, SamlNames.Sha1 }.Where(uri => IsAllowedDigest(policy, uri));

    private static bool IsAllowedDigest(SamlPolicy policy, string uri) =>
        uri is SamlNames.Sha256 or SamlNames.Sha384 or SamlNames.Sha512 || (uri == SamlNames.Sha1 && policy.AllowSha1);

    private static string Short(string? uri) => uri is null ? "none" : uri.Length > 100 ? uri[..100] : uri;
}

internal static class XmlElementExtensions
{
    /// <summary>The element and every element below it, in document order.</summary>
    public static IEnumerable<XmlElement> DescendantsAndSelf(this XmlElement root)
    {
        var pending = new Stack<XmlElement>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var element = pending.Pop();
            yield return element;
            for (var child = element.LastChild; child is not null; child = child.PreviousSibling)
            {
                if (child is XmlElement childElement)
                {
                    pending.Push(childElement);
                }
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
