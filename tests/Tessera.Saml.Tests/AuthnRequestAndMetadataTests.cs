using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Web;
using System.Xml;
using Tessera.Saml.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Saml.Tests;

public sealed class AuthnRequestAndMetadataTests
{
    private static readonly SamlIdentityProvider Idp = Trust().IdentityProvider;
    private static readonly SamlServiceProvider Sp = Trust().ServiceProvider with { NameIdFormat = SamlNames.NameIdPersistent };

    [Fact]
    public void Redirect_binding_carries_a_deflated_request_and_the_relay_state()
    {
        var request = new SamlAuthnRequest("_abc", SamlResponseSpec.Now) { RelayState = "state/with+chars", ForceAuthn = true };

        var url = AuthnRequestBuilder.RedirectUrl(request, Idp, Sp, sign: false);

        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("state/with+chars", query["RelayState"]);
        Assert.Null(query["Signature"]);
        var xml = new XmlDocument();
        xml.LoadXml(Inflate(query["SAMLRequest"]!));
        var root = xml.DocumentElement!;
        Assert.Equal(("AuthnRequest", SamlNames.Protocol), (root.LocalName, root.NamespaceURI));
        Assert.Equal("_abc", root.GetAttribute("ID"));
        Assert.Equal("2.0", root.GetAttribute("Version"));
        Assert.Equal(AcsUrl, root.GetAttribute("AssertionConsumerServiceURL"));
        Assert.Equal("true", root.GetAttribute("ForceAuthn"));
        Assert.Equal(SpEntityId, root.GetElementsByTagName("Issuer", SamlNames.Assertion)[0]!.InnerText);
        Assert.Equal(SamlNames.NameIdPersistent, ((XmlElement)root.GetElementsByTagName("NameIDPolicy", SamlNames.Protocol)[0]!).GetAttribute("Format"));
    }

    [Fact]
    public void Request_is_signed_over_the_query_with_the_sp_key()
    {
        var request = new SamlAuthnRequest("_abc", SamlResponseSpec.Now) { RelayState = "s" };

        var url = AuthnRequestBuilder.RedirectUrl(request, Idp, Sp);

        var raw = url.Query.TrimStart('?');
        var signed = raw[..raw.IndexOf("&Signature=", StringComparison.Ordinal)];
        var query = HttpUtility.ParseQueryString(raw);
        Assert.Equal(SamlNames.RsaSha256, query["SigAlg"]);
        using var key = SpCertificate.GetRSAPublicKey()!;
        Assert.True(key.VerifyData(Encoding.UTF8.GetBytes(signed), Convert.FromBase64String(query["Signature"]!), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.StartsWith("SAMLRequest=", signed, StringComparison.Ordinal);
        Assert.Contains("&RelayState=s&SigAlg=", signed, StringComparison.Ordinal);
    }

    [Fact]
    public void Idp_metadata_yields_entity_sso_url_and_every_signing_certificate()
    {
        var (idp, error) = SamlMetadata.ReadIdentityProvider(IdpMetadata(), [], SamlResponseSpec.Now);

        Assert.Null(error);
        Assert.Equal(EntityId, idp!.EntityId);
        Assert.Equal("https://idp.stmarys.example/sso/redirect", idp.SingleSignOnUrl.AbsoluteUri);
        Assert.True(idp.WantsSignedRequests);
        Assert.Equal([SigningCertificate.Thumbprint, SecondSigningCertificate.Thumbprint], idp.SigningCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void Metadata_signature_is_checked_when_a_signer_is_configured()
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(IdpMetadata());
        Sign(document.DocumentElement!, SecondSigningCertificate);
        var signed = document.OuterXml;

        Assert.Null(SamlMetadata.ReadIdentityProvider(signed, [SecondSigningCertificate], SamlResponseSpec.Now).Error);
        Assert.Contains("signature is not valid", SamlMetadata.ReadIdentityProvider(signed, [UnknownCertificate], SamlResponseSpec.Now).Error, StringComparison.Ordinal);
        Assert.Contains("not signed", SamlMetadata.ReadIdentityProvider(IdpMetadata(), [SecondSigningCertificate], SamlResponseSpec.Now).Error, StringComparison.Ordinal);
        var tampered = signed.Replace("https://idp.stmarys.example/sso/redirect", "https://evil.example/sso", StringComparison.Ordinal);
        Assert.Contains("signature is not valid", SamlMetadata.ReadIdentityProvider(tampered, [SecondSigningCertificate], SamlResponseSpec.Now).Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("expired", "validUntil=\"2000-01-01T00:00:00Z\"", "has expired")]
    [InlineData("no redirect binding", SamlNames.HttpRedirectBinding, "no HTTP-Redirect SingleSignOnService")]
    [InlineData("dtd", "<md:EntityDescriptor", "could not be read")]
    public void Unusable_metadata_is_refused_with_a_reason(string problem, string marker, string expected)
    {
        var metadata = problem switch
        {
            "expired" => IdpMetadata().Replace("entityID=", marker + " entityID=", StringComparison.Ordinal),
            "no redirect binding" => IdpMetadata().Replace(marker, SamlNames.HttpPostBinding, StringComparison.Ordinal),
            _ => "<!DOCTYPE md [<!ENTITY x \"y\">]>" + IdpMetadata(),
        };

        Assert.Contains(expected, SamlMetadata.ReadIdentityProvider(metadata, [], SamlResponseSpec.Now).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Sp_metadata_publishes_the_acs_and_the_sp_certificate()
    {
        var xml = SamlMetadata.WriteServiceProvider(Sp, wantAssertionsSigned: true, signsRequests: true);

        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?>", xml, StringComparison.Ordinal);
        var document = new XmlDocument();
        document.LoadXml(xml);
        var root = document.DocumentElement!;
        Assert.Equal(SpEntityId, root.GetAttribute("entityID"));
        var descriptor = (XmlElement)root.GetElementsByTagName("SPSSODescriptor", SamlNames.Metadata)[0]!;
        Assert.Equal("true", descriptor.GetAttribute("AuthnRequestsSigned"));
        Assert.Equal("true", descriptor.GetAttribute("WantAssertionsSigned"));
        var acs = (XmlElement)descriptor.GetElementsByTagName("AssertionConsumerService", SamlNames.Metadata)[0]!;
        Assert.Equal((SamlNames.HttpPostBinding, AcsUrl), (acs.GetAttribute("Binding"), acs.GetAttribute("Location")));
        var certificates = descriptor.GetElementsByTagName("X509Certificate", SamlNames.XmlDsig).OfType<XmlElement>()
            .Select(c => X509CertificateLoader.LoadCertificate(Convert.FromBase64String(c.InnerText)).Thumbprint).ToList();
        Assert.Equal([SpCertificate.Thumbprint, SpCertificate.Thumbprint], certificates);
    }

    private static string IdpMetadata() => $"""
        <md:EntityDescriptor xmlns:md="{SamlNames.Metadata}" xmlns:ds="{SamlNames.XmlDsig}" entityID="{EntityId}" ID="_meta">
          <md:IDPSSODescriptor protocolSupportEnumeration="{SamlNames.Protocol}" WantAuthnRequestsSigned="true">
            <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(SigningCertificate.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
            <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(SecondSigningCertificate.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
            <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(UnknownCertificate.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
            <md:SingleSignOnService Binding="{SamlNames.HttpPostBinding}" Location="https://idp.stmarys.example/sso/post"/>
            <md:SingleSignOnService Binding="{SamlNames.HttpRedirectBinding}" Location="https://idp.stmarys.example/sso/redirect"/>
          </md:IDPSSODescriptor>
        </md:EntityDescriptor>
        """;

}
