using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Vc;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hosting;

/// <summary>
/// The demo wallet as a person uses it, over real HTTP: sign in through the broker, receive the age credential by
/// OpenID4VCI, and see only ages in it. Tessera's published keys are the only trust the checks use.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed partial class DemoWalletTests
{
    [Fact]
    public async Task A_person_receives_an_age_credential_into_the_demo_wallet_that_carries_ages_and_no_birth_date()
    {
        await using var demo = await RunningDemo.StartAsync();
        var http = demo.Browser();

        Assert.Contains("Get my age credential", await http.GetStringAsync("/demo/wallet"), StringComparison.Ordinal);
        var walletPage = await demo.SignInAsync(http, "/demo/wallet/get", "alice");

        Assert.Equal("/demo/wallet", walletPage.Uri.AbsolutePath);
        Assert.Contains("Proof of age", walletPage.Html, StringComparison.Ordinal);
        var credential = IssuedCredential(walletPage.Html);

        // Real: it verifies with the keys Tessera publishes at its JWT VC issuer metadata, and nothing else.
        var issuer = new TesseraIssuer(demo.Issuer).Name;
        var metadata = JwtVcIssuerMetadata.Read(await http.GetStringAsync("/.well-known/jwt-vc-issuer"), issuer);
        Assert.True(metadata.Succeeded, metadata.Failure?.ToString());
        var verified = await new SdJwtVcVerifier(TimeProvider.System).VerifyAsync(credential,
            new SdJwtIssuerTrust([.. metadata.Value!.Keys]) { Issuer = issuer },
            new SdJwtVcVerificationPolicy { AllowedVcts = [demo.Issuer + "/credentials/types/age"], RequireStatus = true, SdJwt = new() { AllowedTypes = [SdJwtVcNames.Type], RequireKeyBinding = false } },
            keyBinding: null);
        Assert.True(verified.Succeeded, verified.Failure?.ToString());
        Assert.True(verified.Value!.Claims["age_equal_or_over"]!["21"]!.GetValue<bool>());
        Assert.True(verified.Value.Claims["age_equal_or_over"]!["18"]!.GetValue<bool>());
        Assert.NotNull(verified.Value.SdJwt.HolderKey); // bound to the wallet's key

        // No birth date, name or email anywhere: not in the signed JWT, not in any disclosure.
        var decoded = string.Join('\n', credential.Split('~').Where(p => p.Length > 0).Select(p => p.Split('.')).Select(p => Base64UrlEncoder.Decode(p.Length == 3 ? p[1] : p[0])));
        foreach (var absent in new[] { "birthdate", "1990-04-12", "Alice", "alice@demo.example" })
        {
            Assert.DoesNotContain(absent, decoded, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(absent, walletPage.Html, StringComparison.OrdinalIgnoreCase);
        }

        // The page shows what "over 21" would send: the 21 disclosure, never the 18 one.
        var section = walletPage.Html[walletPage.Html.IndexOf("What \"over 21\" would show", StringComparison.Ordinal)..];
        var over21 = section[section.IndexOf("<table>", StringComparison.Ordinal)..section.IndexOf("</table>", StringComparison.Ordinal)];
        Assert.Contains("<td><code>age_equal_or_over.21</code></td><td><code>true</code></td>", over21, StringComparison.Ordinal);
        Assert.DoesNotContain("age_equal_or_over.18", over21, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_person_under_21_receives_a_credential_that_says_so()
    {
        await using var demo = await RunningDemo.StartAsync();
        var http = demo.Browser();

        var walletPage = await demo.SignInAsync(http, "/demo/wallet/get", "bob");

        var claims = JsonNode.Parse(Base64UrlEncoder.Decode(IssuedCredential(walletPage.Html).Split('~')[0].Split('.')[1]))!;
        Assert.Null(claims["birthdate"]);
        Assert.Contains("<td><code>age_equal_or_over.21</code></td><td><code>false</code></td>", walletPage.Html, StringComparison.Ordinal);
        Assert.Contains("<td><code>age_equal_or_over.18</code></td><td><code>true</code></td>", walletPage.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_person_over_21_proves_it_to_the_demo_app_which_receives_a_token_with_that_and_nothing_else()
    {
        await using var demo = await RunningDemo.StartAsync();
        var http = demo.Browser();
        await demo.SignInAsync(http, "/demo/wallet/get", "alice");

        // The app asks Tessera's verifier; the browser carries the request to the wallet.
        var askPage = await http.GetStringAsync("/demo/age");
        Assert.Contains("openid4vp://", askPage, StringComparison.Ordinal);
        var walletUrl = WebUtility.HtmlDecode(Regex.Match(askPage, "<a class=\"button\" href=\"([^\"]+)\">Open the demo wallet").Groups[1].Value);
        var asked = await http.GetStringAsync(walletUrl);

        // The wallet would send the age object and its 21 entry, never the 18 one.
        Assert.Contains("A verifier asks", asked, StringComparison.Ordinal);
        var selected = asked[asked.IndexOf("<table>", StringComparison.Ordinal)..asked.IndexOf("</table>", StringComparison.Ordinal)];
        Assert.Contains("<td><code>age_equal_or_over.21</code></td><td><code>true</code></td>", selected, StringComparison.Ordinal);
        Assert.DoesNotContain("age_equal_or_over.18", selected, StringComparison.Ordinal);

        using var shared = await http.PostAsync("/demo/wallet?handler=share", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = Html.HiddenValue(asked, "client_id"),
            ["request_uri"] = Html.HiddenValue(asked, "request_uri"),
            ["__RequestVerificationToken"] = Html.HiddenValue(asked, "__RequestVerificationToken"),
        }));
        var resultPage = await shared.Content.ReadAsStringAsync();

        Assert.True(shared.RequestMessage!.RequestUri!.AbsolutePath == "/demo/age/result", (int)shared.StatusCode + " " + Regex.Match(resultPage, "<p class=\"error\">([^<]*)</p>").Groups[1].Value);
        Assert.True(resultPage.Contains("Age checked", StringComparison.Ordinal), resultPage);
        var payload = JsonNode.Parse(WebUtility.HtmlDecode(Regex.Matches(resultPage, "<pre>([^<]*)</pre>")[1].Groups[1].Value))!.AsObject();
        Assert.True(payload["age_over_21"]!.GetValue<bool>());
        Assert.Equal(DemoConfiguration.AgeCheckClientId, payload["aud"]!.GetValue<string>());
        // Registered JWT claims and the one disclosed fact; no name, email, birth date or other age.
        Assert.Equal(["age_over_21", "aud", "exp", "iat", "iss", "jti", "sub"], payload.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Contains("<td><code>age_over_21</code></td><td><code>true</code></td>", resultPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_person_under_21_cannot_answer_the_demo_apps_request()
    {
        await using var demo = await RunningDemo.StartAsync();
        var http = demo.Browser();
        await demo.SignInAsync(http, "/demo/wallet/get", "bob");

        var askPage = await http.GetStringAsync("/demo/age");
        var walletUrl = WebUtility.HtmlDecode(Regex.Match(askPage, "<a class=\"button\" href=\"([^\"]+)\">Open the demo wallet").Groups[1].Value);
        var asked = await http.GetStringAsync(walletUrl);

        Assert.Contains("Your credential does not answer this request", asked, StringComparison.Ordinal);
        Assert.DoesNotContain("A verifier asks", asked, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/demo/age")]
    [InlineData("/demo/age/result?response_code=x")]
    [InlineData("/demo/wallet")]
    [InlineData("/demo/wallet/get")]
    [InlineData("/demo/wallet/callback?code=x&state=y")]
    public async Task The_demo_wallet_is_not_there_when_the_demo_is_not_running(string path)
    {
        await using var server = await TesseraTestServer.StartAsync();
        using var http = server.CreateClient();

        using var response = await http.GetAsync(path.TrimStart('/'));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static string IssuedCredential(string html) =>
        WebUtility.HtmlDecode(IssuedPattern().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("The wallet shows no credential: " + html));

    [GeneratedRegex("<pre id=\"issued\">([^<]+)</pre>")]
    private static partial Regex IssuedPattern();
}

/// <summary><c>tessera demo</c> on a free loopback port, as <see cref="DemoTests"/> runs it.</summary>
internal sealed class RunningDemo : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _data;

    private RunningDemo(WebApplication app, string issuer, string data)
    {
        _app = app;
        Issuer = issuer;
        _data = data;
    }

    public string Issuer { get; }

    public static async Task<RunningDemo> StartAsync()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var issuer = $"http://127.0.0.1:{port}";
        var data = Path.Combine(Path.GetTempPath(), "tessera-demo-" + Guid.NewGuid().ToString("N"));
        var builder = TesseraApp.CreateBuilder(DemoConfiguration.Create(issuer, data), configFile: null);
        builder.WebHost.UseUrls(issuer);
        builder.Logging.ClearProviders();
        var app = TesseraApp.Build(builder);
        await app.StartAsync();
        return new RunningDemo(app, issuer, data);
    }

    /// <summary>A browser: cookies kept, redirects followed.</summary>
    public HttpClient Browser() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true }) { BaseAddress = new Uri(Issuer) };

    /// <summary>Opens <paramref name="start"/>; when Tessera asks for a sign-in, signs in as <paramref name="person"/> at the mock IdP. Returns where the browser lands.</summary>
    public async Task<(Uri Uri, string Html)> SignInAsync(HttpClient http, string start, string person)
    {
        using var signIn = await http.GetAsync(start);
        var page = await signIn.Content.ReadAsStringAsync();
        if (signIn.RequestMessage!.RequestUri!.AbsolutePath != "/signin")
        {
            return (signIn.RequestMessage.RequestUri, page);
        }

        using var idp = await http.PostAsync(signIn.RequestMessage.RequestUri, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = person + "@demo.example",
            ["returnUrl"] = Html.HiddenValue(page, "returnUrl"),
            ["__RequestVerificationToken"] = Html.HiddenValue(page, "__RequestVerificationToken"),
        }));
        var idpPage = await idp.Content.ReadAsStringAsync();
        var fields = Regex.Matches(idpPage, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")
            .ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields["person"] = person;
        using var landed = await http.PostAsync("/_dev/idp/authorize", new FormUrlEncodedContent(fields));
        return (landed.RequestMessage!.RequestUri!, await landed.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(_data, recursive: true);
    }
}
