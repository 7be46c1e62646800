using System.Security.Cryptography.X509Certificates;
using Tessera.Hosting;
using Tessera.Saml;
using Tessera.Saml.Tests.Infrastructure;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

/// <summary>A SAML connection is checked the way sign-in will read it; each mistake is named with its path.</summary>
public sealed class SamlConnectionValidationTests
{
    private const string Path = "$.Tessera.Organizations[0].Connections[0]";

    private static TesseraOptions Options(Action<ConnectionOptions> change)
    {
        var options = TestConfiguration.Create(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = "Data Source=x.db" });
        options.Network.AllowPrivateUpstreams = false; // as deployed: these connections name no loopback IdP
        var connection = SamlSignIn.Connection();
        change(connection);
        options.Organizations.Add(new OrganizationOptions { Id = "st-marys", Connections = [connection] });
        TesseraOptionsDefaults.Apply(options);
        return options;
    }

    private static readonly string Metadata = $"""
        <md:EntityDescriptor xmlns:md="{SamlNames.Metadata}" xmlns:ds="{SamlNames.XmlDsig}" entityID="{TestSamlIdentityProvider.EntityId}">
          <md:IDPSSODescriptor protocolSupportEnumeration="{SamlNames.Protocol}" WantAuthnRequestsSigned="true">
            <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(TestSamlIdentityProvider.SigningCertificate.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
            <md:SingleSignOnService Binding="{SamlNames.HttpRedirectBinding}" Location="https://idp.stmarys.example/sso"/>
          </md:IDPSSODescriptor>
        </md:EntityDescriptor>
        """;

    private static void Explicit(ConnectionOptions c)
    {
        c.EntityId = null;
        c.SsoUrl = null;
        c.Certificates = [];
    }

    public static TheoryData<string, Action<ConnectionOptions>, string> Rows => new()
    {
        { "no source of IdP trust", Explicit, $"{Path}: a SAML connection needs exactly one of" },
        { "metadata and explicit settings at once", c => c.MetadataXml = Metadata, $"{Path}: a SAML connection needs exactly one of" },
        { "metadata that is not XML", c => { Explicit(c); c.MetadataXml = "not xml"; }, $"{Path}.MetadataXml: The metadata could not be read" },
        { "metadata with a DTD", c => { Explicit(c); c.MetadataXml = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>"; }, $"{Path}.MetadataXml: The metadata could not be read" },
        { "unsigned metadata where a signature is required", c => { Explicit(c); c.MetadataXml = Metadata; c.MetadataSigningCertificates = [TestSamlIdentityProvider.UnknownCertificate.ExportCertificatePem()]; }, $"{Path}.MetadataXml: The metadata is not signed" },
        { "metadata URL over plain http", c => { Explicit(c); c.MetadataUrl = "http://idp.stmarys.example/metadata"; }, $"{Path}.MetadataUrl: must use https" },
        { "metadata URL on loopback", c => { Explicit(c); c.MetadataUrl = "http://127.0.0.1:8080/metadata"; }, $"{Path}.MetadataUrl: points at a private or loopback address; set Network.AllowPrivateUpstreams to true" },
        { "metadata URL at localhost", c => { Explicit(c); c.MetadataUrl = "https://localhost/metadata"; }, $"{Path}.MetadataUrl: points at a private or loopback address" },
        { "metadata URL on a private address", c => { Explicit(c); c.MetadataUrl = "https://192.168.1.10/FederationMetadata/2007-06/FederationMetadata.xml"; }, $"{Path}.MetadataUrl: points at a private or loopback address" },
        { "SSO URL that is not a URL", c => c.SsoUrl = "idp/sso", $"{Path}.SsoUrl: an absolute https URL is required" },
        { "certificate that is not one", c => c.Certificates = ["MIIB-not-a-certificate"], $"{Path}.Certificates[0]: is not a certificate" },
        { "no IdP certificate", c => c.Certificates = [], $"{Path}.Certificates: at least one IdP signing certificate" },
        { "SHA-1 without the opt-in", c => c.AllowedAlgorithms = ["RSA-SHA256", "RSA-SHA1"], $"{Path}.AllowedAlgorithms[1]: RSA-SHA1 needs AllowSha1" },
        { "JOSE algorithm name on a SAML connection", c => c.AllowedAlgorithms = ["RS256"], $"{Path}.AllowedAlgorithms[0]: 'RS256' is not a SAML signature algorithm" },
        { "unknown NameID format", c => c.NameIdFormat = "email", $"{Path}.NameIdFormat: must be persistent" },
        { "SP certificate without its key", c => c.SpPrivateKey = null, $"{Path}.SpPrivateKey: SpCertificate and SpPrivateKey go together" },
        { "SP key of another certificate", c => c.SpPrivateKey = TestSamlIdentityProvider.SigningCertificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem(), $"{Path}.SpCertificate: the SP certificate and private key" },
        { "IdP wants signed requests but there is no SP key", c => { Explicit(c); c.MetadataXml = Metadata; c.SpCertificate = null; c.SpPrivateKey = null; }, $"{Path}.SpPrivateKey: the IdP's metadata asks for signed AuthnRequests" },
        { "IdP wants signed requests but signing is off", c => { Explicit(c); c.MetadataXml = Metadata; c.SignAuthnRequests = false; }, $"{Path}.SpPrivateKey: the IdP's metadata asks for signed AuthnRequests" },
        { "signed requests without an SP key", c => { c.SpCertificate = null; c.SpPrivateKey = null; c.SignAuthnRequests = true; }, $"{Path}.SignAuthnRequests: signing AuthnRequests needs" },
        { "attribute mapped onto the subject", c => c.AttributeClaims = [new AttributeClaimOptions { Attribute = "uid", Claim = "sub" }], $"{Path}.AttributeClaims[0].Claim: a claim name is required" },
        { "IdP-initiated without a client", c => c.AllowIdpInitiated = true, $"{Path}.IdpInitiatedClientId: IdP-initiated sign-in needs a configured client" },
        { "IdP-initiated onto a service client", c => { c.AllowIdpInitiated = true; c.IdpInitiatedClientId = TestConfiguration.ServiceClient; }, $"{Path}.IdpInitiatedClientId: IdP-initiated sign-in needs a configured client with the authorization_code grant" },
        { "IdP-initiated landing on a foreign origin", c => { c.AllowIdpInitiated = true; c.IdpInitiatedClientId = TestConfiguration.PublicClient; c.IdpInitiatedLoginUri = "https://evil.example/login"; }, $"{Path}.IdpInitiatedLoginUri: must be on the same origin" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_bad_saml_connection_is_refused_with_path_and_reason(string problem, Action<ConnectionOptions> change, string expected)
    {
        var errors = ConfigurationCompiler.Compile(Options(change)).Errors.Select(e => e.Format(null)).ToList();

        Assert.True(errors.Any(e => e.StartsWith(expected, StringComparison.Ordinal)), $"{problem}: expected '{expected}', got: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void Explicit_settings_and_metadata_are_both_accepted()
    {
        Assert.Empty(ConfigurationCompiler.Compile(Options(_ => { })).Errors);
        Assert.Empty(ConfigurationCompiler.Compile(Options(c => { Explicit(c); c.MetadataXml = Metadata; })).Errors);
        var defaults = Options(_ => { }).Organizations[0].Connections[0];
        Assert.Equal(SamlNames.DefaultSignatureAlgorithms, defaults.AllowedAlgorithms);
    }
}
