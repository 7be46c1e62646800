using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

/// <summary>The demo as a person uses it: real HTTP, the sign-in page, the mock IdP, the sample app showing tokens.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DemoTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task A_person_signs_in_through_the_broker_and_sees_their_decoded_tokens()
    {
        var port = FreePort();
        var issuer = $"http://127.0.0.1:{port}";
        var data = Path.Combine(Path.GetTempPath(), "tessera-demo-" + Guid.NewGuid().ToString("N"));
        var builder = TesseraApp.CreateBuilder(DemoConfiguration.Create(issuer, data), configFile: null);
        builder.WebHost.UseUrls(issuer);
        builder.Logging.ClearProviders();
        await using var app = TesseraApp.Build(builder);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true }) { BaseAddress = new Uri(issuer) };

            var home = await http.GetStringAsync("/demo");
            Assert.Contains("Development only", home, StringComparison.Ordinal);

            var signIn = await http.GetAsync("/demo/login");
            var signInPage = await signIn.Content.ReadAsStringAsync();
            Assert.Equal("/signin", signIn.RequestMessage!.RequestUri!.AbsolutePath);

            var idp = await http.PostAsync(signIn.RequestMessage.RequestUri, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["email"] = "alice@demo.example",
                ["returnUrl"] = Html.HiddenValue(signInPage, "returnUrl"),
                ["__RequestVerificationToken"] = Html.HiddenValue(signInPage, "__RequestVerificationToken"),
            }));
            var idpPage = await idp.Content.ReadAsStringAsync();
            Assert.Contains("Demo identity provider", idpPage, StringComparison.Ordinal);
            Assert.Contains("It never runs under", idpPage, StringComparison.Ordinal);

            var fields = System.Text.RegularExpressions.Regex.Matches(idpPage, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")
                .ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
            fields["person"] = "alice";
            var app_ = await http.PostAsync("/_dev/idp/authorize", new FormUrlEncodedContent(fields));
            var tokensPage = WebUtility.HtmlDecode(await app_.Content.ReadAsStringAsync());

            Assert.Equal("/demo/callback", app_.RequestMessage!.RequestUri!.AbsolutePath);
            Assert.Contains("Signed in", tokensPage, StringComparison.Ordinal);
            Assert.True(tokensPage.Contains("\"typ\": \"at+jwt\"", StringComparison.Ordinal), tokensPage);
            Assert.Contains("\"org\": \"demo-hospital\"", tokensPage, StringComparison.Ordinal);
            Assert.Contains("doctor_access", tokensPage, StringComparison.Ordinal);
            Assert.Contains("\"department\": \"medicine\"", tokensPage, StringComparison.Ordinal);
            Assert.Contains("\"email\": \"alice@demo.example\"", tokensPage, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            System.IO.Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_refuses_a_configuration_with_the_demo_identity_provider()
    {
        var database = await TestDatabase.CreateAsync();
        await using var _ = database;
        var options = TestConfiguration.Create(database.Storage);
        options.Development.Demo = true;
        var file = ConfigurationFile.Write(options);
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(TesseraCli.ConfigurationRefused, await TesseraCli.InvokeAsync(["serve", "--config", file]));
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Contains("$.Tessera.Development.Demo", error.ToString(), StringComparison.Ordinal);
    }
}
