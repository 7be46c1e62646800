using System.Net;
using System.Text.RegularExpressions;

namespace Tessera.Tests.Infrastructure;

/// <summary>An IT admin in the setup portal: opens a setup link, reads pages and sends their forms (with the antiforgery token each page carries).</summary>
public sealed partial class PortalVisit(TesseraTestServer server) : IDisposable
{
    public Browser Browser { get; } = server.CreateBrowser();

    /// <summary>The last page read: status and HTML.</summary>
    public (int Status, string Html) Page { get; private set; }

    public static async Task<string> SetupLinkAsync(HttpClient admin, string organization)
    {
        var created = await AdminApi.PostAsync(admin, $"organizations/{organization}/setup-links");
        Assert.True(created.Status == 201, created.ToString());
        return created.Body["url"]!.GetValue<string>();
    }

    /// <summary>Opens the link and presses its button; the page it ends on.</summary>
    public async Task<(int Status, string Html)> OpenAsync(string link)
    {
        var landing = await GetAsync(link);
        return landing.Status == 200 ? await SubmitAsync(link, new Dictionary<string, string>()) : landing;
    }

    public async Task<(int Status, string Html)> GetAsync(string url)
    {
        var navigation = await Browser.NavigateAsync(url);
        Page = ((int)navigation.Response.StatusCode, await navigation.Response.Content.ReadAsStringAsync());
        return Page;
    }

    /// <summary>Posts a form with the last page's antiforgery token and follows where it leads (through the IdP, for a test sign-in).</summary>
    public async Task<(int Status, string Html)> SubmitAsync(string url, IDictionary<string, string> fields, bool withToken = true)
    {
        var form = new Dictionary<string, string>(fields);
        if (withToken)
        {
            form["__RequestVerificationToken"] = Html.HiddenValue(Page.Html, "__RequestVerificationToken");
        }

        var response = await Browser.PostFormAsync(url, form);
        if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
        {
            return await GetAsync(location.IsAbsoluteUri ? location.AbsoluteUri : new Uri(server.BaseAddress, location).AbsoluteUri);
        }

        Page = ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        return Page;
    }

    /// <summary>The value of a read-only copy field on the last page.</summary>
    public string CopyValue(string id)
    {
        var match = Regex.Match(Page.Html, $"<input id=\"{id}\"[^>]*value=\"([^\"]*)\"");
        Assert.True(match.Success, $"no {id} on the page");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>Where the last page lives (the last URL the browser fetched).</summary>
    public Uri Location => Browser.History[^1];

    public static string Text(string html) => WebUtility.HtmlDecode(TagPattern().Replace(html, " "));

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex TagPattern();

    public void Dispose() => Browser.Dispose();
}
