using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using Tessera.Saml;

namespace Tessera.Saml.Tests.Infrastructure;

/// <summary>What one test response says. Defaults describe a valid, solicited sign-in at <see cref="Now"/>.</summary>
public sealed record SamlResponseSpec
{
    /// <summary>The tests' clock, near the real time (browsers in sign-in tests drop cookies that expired in real time).</summary>
    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    public string ResponseId { get; init; } = "_r" + Guid.NewGuid().ToString("N");
    public string AssertionId { get; init; } = "_a" + Guid.NewGuid().ToString("N");
    public string Destination { get; init; } = TestSamlIdentityProvider.AcsUrl;
    public string ResponseIssuer { get; init; } = TestSamlIdentityProvider.EntityId;
    public string AssertionIssuer { get; init; } = TestSamlIdentityProvider.EntityId;
    public string? InResponseTo { get; init; } = TestSamlIdentityProvider.RequestId;
    public string Status { get; init; } = SamlNames.StatusSuccess;
    public string? SecondLevelStatus { get; init; }

    /// <summary>Raw XML content of the NameID element (so tests can put comments or markup inside).</summary>
    public string NameIdXml { get; init; } = "u-4711";
    public string NameIdFormat { get; init; } = SamlNames.NameIdPersistent;
    public string Recipient { get; init; } = TestSamlIdentityProvider.AcsUrl;
    public string Audience { get; init; } = TestSamlIdentityProvider.SpEntityId;
    public DateTimeOffset NotBefore { get; init; } = Now.AddMinutes(-1);
    public DateTimeOffset NotOnOrAfter { get; init; } = Now.AddMinutes(5);
    public DateTimeOffset ConfirmationNotOnOrAfter { get; init; } = Now.AddMinutes(5);
    public DateTimeOffset? SessionNotOnOrAfter { get; init; } = Now.AddHours(8);
    public string SessionIndex { get; init; } = "_s1";

    /// <summary>When the IdP says it issued the Response and the assertion (the user authenticated 5 s before).</summary>
    public DateTimeOffset IssueInstant { get; init; } = Now;

    public IReadOnlyList<(string Name, string Value)> Attributes { get; init; } =
        [("Role", "doctor"), ("Role", "staff"), ("ProviderID", "P-123"), ("email", "ana@stmarys.example")];

    /// <summary>The same response from an IdP whose clock is <paramref name="offset"/> away from the tests' clock: every time moves.</summary>
    public SamlResponseSpec OnIdpClock(TimeSpan offset) => this with
    {
        IssueInstant = IssueInstant + offset,
        NotBefore = NotBefore + offset,
        NotOnOrAfter = NotOnOrAfter + offset,
        ConfirmationNotOnOrAfter = ConfirmationNotOnOrAfter + offset,
        SessionNotOnOrAfter = SessionNotOnOrAfter + offset,
    };
}

/// <summary>
/// A SAML IdP for tests: builds responses from a spec, signs what a test asks it to sign with real RSA or ECDSA
/// keys, encrypts assertions to the SP's certificate, and hands back the POST value.
/// </summary>
public static class TestSamlIdentityProvider
{
    public const string EntityId = "https://idp.stmarys.example/saml";
    public const string SpEntityId = "https://tessera.example/saml/stmarys-saml";
    public const string AcsUrl = "https://tessera.example/saml/stmarys-saml/acs";
    public const string RequestId = "_req-7f3c";

    public static readonly X509Certificate2 SigningCertificate = Certificate("CN=idp signing", rsa: true);
    public static readonly X509Certificate2 SecondSigningCertificate = Certificate("CN=idp next signing", rsa: true);
    public static readonly X509Certificate2 EcdsaSigningCertificate = Certificate("CN=idp ecdsa signing", rsa: false);
    public static readonly X509Certificate2 UnknownCertificate = Certificate("CN=someone else", rsa: true);
    public static readonly X509Certificate2 SpCertificate = Certificate("CN=tessera sp", rsa: true);

    public static SamlTrust Trust(SamlPolicy? policy = null) => new(
        new SamlIdentityProvider(EntityId, new Uri("https://idp.stmarys.example/sso"), [SigningCertificate, SecondSigningCertificate, EcdsaSigningCertificate]),
        new SamlServiceProvider(SpEntityId, new Uri(AcsUrl)) { SigningCertificate = SpCertificate, DecryptionCertificate = SpCertificate },
        policy ?? new SamlPolicy());

    public static XmlDocument Build(SamlResponseSpec spec)
    {
        var attributes = string.Concat(spec.Attributes.GroupBy(a => a.Name).Select(group =>
            $"<saml:Attribute Name=\"{group.Key}\">{string.Concat(group.Select(a => $"<saml:AttributeValue>{a.Value}</saml:AttributeValue>"))}</saml:Attribute>"));
        var inResponseTo = spec.InResponseTo is null ? "" : $" InResponseTo=\"{spec.InResponseTo}\"";
        var secondLevel = spec.SecondLevelStatus is null ? "" : $"<samlp:StatusCode Value=\"{spec.SecondLevelStatus}\"/>";
        var session = spec.SessionNotOnOrAfter is { } end ? $" SessionNotOnOrAfter=\"{Time(end)}\"" : "";
        var xml = $"""
            <samlp:Response xmlns:samlp="{SamlNames.Protocol}" xmlns:saml="{SamlNames.Assertion}" ID="{spec.ResponseId}" Version="2.0" IssueInstant="{Time(spec.IssueInstant)}" Destination="{spec.Destination}"{inResponseTo}>
              <saml:Issuer>{spec.ResponseIssuer}</saml:Issuer>
              <samlp:Status><samlp:StatusCode Value="{spec.Status}">{secondLevel}</samlp:StatusCode></samlp:Status>
              <saml:Assertion ID="{spec.AssertionId}" Version="2.0" IssueInstant="{Time(spec.IssueInstant)}">
                <saml:Issuer>{spec.AssertionIssuer}</saml:Issuer>
                <saml:Subject>
                  <saml:NameID Format="{spec.NameIdFormat}">{spec.NameIdXml}</saml:NameID>
                  <saml:SubjectConfirmation Method="{SamlNames.BearerConfirmation}">
                    <saml:SubjectConfirmationData NotOnOrAfter="{Time(spec.ConfirmationNotOnOrAfter)}" Recipient="{spec.Recipient}"{inResponseTo}/>
                  </saml:SubjectConfirmation>
                </saml:Subject>
                <saml:Conditions NotBefore="{Time(spec.NotBefore)}" NotOnOrAfter="{Time(spec.NotOnOrAfter)}">
                  <saml:AudienceRestriction><saml:Audience>{spec.Audience}</saml:Audience></saml:AudienceRestriction>
                </saml:Conditions>
                <saml:AuthnStatement AuthnInstant="{Time(spec.IssueInstant.AddSeconds(-5))}" SessionIndex="{spec.SessionIndex}"{session}>
                  <saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>
                </saml:AuthnStatement>
                <saml:AttributeStatement>{attributes}</saml:AttributeStatement>
              </saml:Assertion>
            </samlp:Response>
            """;
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(xml);
        return document;
    }

    public static XmlElement Response(XmlDocument document) => document.DocumentElement!;

    public static XmlElement Assertion(XmlDocument document) =>
        (XmlElement)document.GetElementsByTagName("Assertion", SamlNames.Assertion)[0]!;

    /// <summary>Signs <paramref name="target"/> with an enveloped signature placed right after its Issuer, as SAML requires.</summary>
    public static XmlElement Sign(XmlElement target, X509Certificate2? certificate = null, string signatureMethod = SamlNames.RsaSha256,
        string digestMethod = SamlNames.Sha256, string canonicalization = SamlNames.ExclusiveC14n, string? referenceUri = null, bool envelopedTransform = true,
        string? inclusivePrefixes = null)
    {
        certificate ??= SigningCertificate;
        EcdsaSha256SignatureDescription.Register();
        var signed = new IdSignedXml(target);
        signed.SigningKey = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey();
        signed.SignedInfo!.CanonicalizationMethod = canonicalization;
        signed.SignedInfo.SignatureMethod = signatureMethod;
        var reference = new Reference(referenceUri ?? "#" + target.GetAttribute("ID")) { DigestMethod = digestMethod };
        if (envelopedTransform)
        {
            reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        }

        reference.AddTransform(inclusivePrefixes is null ? new XmlDsigExcC14NTransform() : new XmlDsigExcC14NTransform(inclusivePrefixes));
        signed.AddReference(reference);
        var keyInfo = new KeyInfo();
        keyInfo.AddClause(new KeyInfoX509Data(certificate));
        signed.KeyInfo = keyInfo;
        signed.ComputeSignature();
        var signature = (XmlElement)target.OwnerDocument.ImportNode(signed.GetXml(), true);
        var issuer = target.Child("Issuer", SamlNames.Assertion);
        target.InsertAfter(signature, issuer);
        return signature;
    }

    /// <summary>Replaces the assertion with an EncryptedAssertion for the SP certificate (RSA-OAEP key transport).</summary>
    public static void Encrypt(XmlDocument document, string contentAlgorithm = SamlNames.Aes256Gcm, X509Certificate2? recipient = null, string keyTransport = SamlNames.RsaOaepMgf1p)
    {
        var assertion = Assertion(document);
        var plaintext = Encoding.UTF8.GetBytes(assertion.OuterXml);
        var gcm = contentAlgorithm.StartsWith(SamlNames.XmlEnc11, StringComparison.Ordinal);
        var keySize = contentAlgorithm.Contains("128", StringComparison.Ordinal) ? 16 : contentAlgorithm.Contains("192", StringComparison.Ordinal) ? 24 : 32;
        var key = RandomNumberGenerator.GetBytes(keySize);
        byte[] cipher;
        if (gcm)
        {
            var nonce = RandomNumberGenerator.GetBytes(12);
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[16];
            using var aes = new AesGcm(key, 16);
            aes.Encrypt(nonce, plaintext, ciphertext, tag);
            cipher = [.. nonce, .. ciphertext, .. tag];
        }
        else
        {
            using var aes = Aes.Create();
            aes.Key = key;
            var iv = RandomNumberGenerator.GetBytes(16);
            var pad = 16 - plaintext.Length % 16;
            byte[] padded = [.. plaintext, .. RandomNumberGenerator.GetBytes(pad - 1), (byte)pad];
            cipher = [.. iv, .. aes.EncryptCbc(padded, iv, PaddingMode.None)];
        }

        using var rsa = (recipient ?? SpCertificate).GetRSAPublicKey()!;
        var wrapped = keyTransport == SamlNames.Rsa15 ? rsa.Encrypt(key, RSAEncryptionPadding.Pkcs1) : rsa.Encrypt(key, RSAEncryptionPadding.OaepSHA1);
        var xml = $"""
            <saml:EncryptedAssertion xmlns:saml="{SamlNames.Assertion}"><xenc:EncryptedData xmlns:xenc="{SamlNames.XmlEnc}" Type="{SamlNames.XmlEnc}Element"><xenc:EncryptionMethod Algorithm="{contentAlgorithm}"/><ds:KeyInfo xmlns:ds="{SamlNames.XmlDsig}"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{keyTransport}"/><xenc:CipherData><xenc:CipherValue>{Convert.ToBase64String(wrapped)}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{Convert.ToBase64String(cipher)}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>
            """;
        var fragment = new XmlDocument { PreserveWhitespace = true };
        fragment.LoadXml(xml);
        assertion.ParentNode!.ReplaceChild(document.ImportNode(fragment.DocumentElement!, true), assertion);
    }

    public static string Encode(XmlDocument document) => Encode(document.OuterXml);

    public static string Encode(string xml) => Convert.ToBase64String(Encoding.UTF8.GetBytes(xml));

    /// <summary>The common case: a response whose assertion is signed.</summary>
    public static string SignedAssertion(SamlResponseSpec? spec = null)
    {
        var document = Build(spec ?? new SamlResponseSpec());
        Sign(Assertion(document));
        return Encode(document);
    }

    /// <summary>Reads an HTTP-Redirect binding message (SAML Bindings §3.4.4.1): base64, then raw DEFLATE.</summary>
    public static string Inflate(string base64)
    {
        using var input = new System.IO.Compression.DeflateStream(new MemoryStream(Convert.FromBase64String(base64)), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(input, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    private static X509Certificate2 Certificate(string subject, bool rsa)
    {
        CertificateRequest request;
        if (rsa)
        {
            request = new CertificateRequest(subject, RSA.Create(2048), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        else
        {
            request = new CertificateRequest(subject, ECDsa.Create(ECCurve.NamedCurves.nistP256), HashAlgorithmName.SHA256);
        }

        return request.CreateSelfSigned(SamlResponseSpec.Now.AddYears(-1), SamlResponseSpec.Now.AddYears(5));
    }

    private static XmlElement? Child(this XmlElement parent, string localName, string namespaceUri) =>
        parent.ChildNodes.OfType<XmlElement>().FirstOrDefault(e => e.LocalName == localName && e.NamespaceURI == namespaceUri);

    /// <summary>Signs an element that may not be the document root: resolves the reference to exactly that element.</summary>
    private sealed class IdSignedXml(XmlElement target) : SignedXml(target.OwnerDocument)
    {
        public override XmlElement? GetIdElement(XmlDocument? document, string idValue) =>
            target.GetAttribute("ID") == idValue ? target : base.GetIdElement(document, idValue);
    }
}
