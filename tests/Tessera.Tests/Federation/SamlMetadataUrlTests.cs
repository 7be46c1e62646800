using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tessera.Saml;
using Tessera.Saml.Tests.Infrastructure;
using Tessera.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Tests.Federation;

/// <summary>An IdP published through a metadata URL: refreshed, certificate rollover honoured, outages survived.</summary>
public sealed class SamlMetadataUrlTests
{
    [Fact]
    public async Task Metadata_url_is_refreshed_for_a_certificate_rollover_and_an_outage_keeps_the_last_good_copy()
    {
        await using var metadata = await MetadataServer.StartAsync(Metadata(SigningCertificate));
        await using var host = await SamlSignIn.StartAsync(connection =>
        {
            connection.EntityId = null;
            connection.SsoUrl = null;
            connection.Certificates = [];
            connection.MetadataUrl = metadata.Url;
            connection.MetadataRefreshInterval = TimeSpan.FromMinutes(1);
        });
        static Action<System.Xml.XmlDocument> SignedBy(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
            document => Sign(Assertion(document), certificate);

        using (var browser = host.Browser())
        {
            await host.SignInAsync(browser, sign: SignedBy(SigningCertificate));
        }

        Assert.Equal(1, metadata.Requests);

        // The IdP starts its rollover: both certificates published, the new one signing.
        metadata.Document = Metadata(SigningCertificate, SecondSigningCertificate);
        host.Time.Advance(TimeSpan.FromSeconds(70));
        using (var browser = host.Browser())
        {
            await host.SignInAsync(browser, sign: SignedBy(SecondSigningCertificate));
        }

        Assert.Equal(2, metadata.Requests);

        // The metadata endpoint goes down: the last good metadata keeps working.
        metadata.Down = true;
        host.Time.Advance(TimeSpan.FromSeconds(70));
        using (var browser = host.Browser())
        {
            await host.SignInAsync(browser, sign: SignedBy(SecondSigningCertificate));
        }

        Assert.Equal(3, metadata.Requests);
        Assert.Contains(host.Server.Logs.Lines, line => line.Contains("keeping the last good metadata", StringComparison.Ordinal));

        // A certificate the metadata never named is still refused.
        using var refused = host.Browser();
        var started = await host.BeginAsync(refused);
        var document = Build(SamlSignIn.Spec(started.RequestId));
        Sign(Assertion(document), UnknownCertificate);
        var outcome = await host.PostAsync(refused, Encode(document), started.RelayState);
        Assert.Contains(SamlRules.SignatureInvalid, await outcome.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static string Metadata(params System.Security.Cryptography.X509Certificates.X509Certificate2[] certificates) => $"""
        <md:EntityDescriptor xmlns:md="{SamlNames.Metadata}" xmlns:ds="{SamlNames.XmlDsig}" entityID="{EntityId}">
          <md:IDPSSODescriptor protocolSupportEnumeration="{SamlNames.Protocol}">
            {string.Concat(certificates.Select(c => $"<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(c.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"))}
            <md:SingleSignOnService Binding="{SamlNames.HttpRedirectBinding}" Location="https://{SamlSignIn.IdpHost}/sso"/>
          </md:IDPSSODescriptor>
        </md:EntityDescriptor>
        """;

    /// <summary>Serves one metadata document over loopback HTTP, or 503 while <see cref="Down"/>.</summary>
    private sealed class MetadataServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private MetadataServer(WebApplication app, string document)
        {
            _app = app;
            Document = document;
        }

        public string Document { get; set; }

        public bool Down { get; set; }

        public int Requests => _requests;

        public string Url { get; private set; } = "";

        public static async Task<MetadataServer> StartAsync(string document)
        {
            MetadataServer server = null!;
            var (_, baseUrl) = await LoopbackServer.StartAsync(app =>
            {
                server = new MetadataServer(app, document);
                app.MapGet("/metadata", () =>
                {
                    Interlocked.Increment(ref server._requests);
                    return server.Down ? Results.StatusCode(503) : Results.Text(server.Document, "application/samlmetadata+xml");
                });
            });
            server.Url = baseUrl + "/metadata";
            return server;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
