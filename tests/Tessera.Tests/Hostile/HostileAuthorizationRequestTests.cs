using System.Net;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hostile;

/// <summary>
/// Bad authorization requests: each gets the protocol's own answer (an error page when the client or redirect URI
/// is at fault, otherwise an error at the registered redirect URI), changes nothing, and leaves an audit row.
/// </summary>
public sealed class HostileAuthorizationRequestTests(SharedBroker broker) : IClassFixture<SharedBroker>
{
    private const string Registered = TestConfiguration.WebRedirect; // https://billing.example/signin-oidc

    public static TheoryData<string, Dictionary<string, string?>, string, bool> Rows => new()
    {
        // attack, changes to a valid request, expected error, redirected to the client?
        { "redirect_uri downgraded to http", new() { ["redirect_uri"] = "http://billing.example/signin-oidc" }, "invalid_request", false },
        { "redirect_uri with a trailing slash", new() { ["redirect_uri"] = Registered + "/" }, "invalid_request", false },
        { "redirect_uri with an extra path", new() { ["redirect_uri"] = Registered + "/evil" }, "invalid_request", false },
        { "redirect_uri with an extra query", new() { ["redirect_uri"] = Registered + "?next=https://evil.example" }, "invalid_request", false },
        { "redirect_uri on another port", new() { ["redirect_uri"] = "https://billing.example:8443/signin-oidc" }, "invalid_request", false },
        { "redirect_uri on a look-alike host", new() { ["redirect_uri"] = "https://billing.example.evil.example/signin-oidc" }, "invalid_request", false },
        { "redirect_uri with a fragment", new() { ["redirect_uri"] = Registered + "#x" }, "invalid_request", false },
        { "redirect_uri missing", new() { ["redirect_uri"] = null }, "invalid_request", false },
        { "unknown client", new() { ["client_id"] = "mallory-app" }, "invalid_request", false },
        { "client_id missing", new() { ["client_id"] = null }, "invalid_request", false },
        { "oversized state", new() { ["state"] = new string('s', 10_000) }, "invalid_request", false },
        { "oversized parameter name", new() { [new string('p', 300)] = "x" }, "invalid_request", false },
        { "scope the client is not registered for", new() { ["scope"] = "openid write:orders" }, "invalid_scope", true },
        { "implicit flow response type", new() { ["response_type"] = "token" }, "unsupported_response_type", true },
        { "plain PKCE", new() { ["code_challenge_method"] = "plain" }, "invalid_request", true },
        { "resource the client is not registered for", new() { ["resource"] = "https://orders.internal" }, "invalid_target", true },
        { "unknown prompt value combined with none", new() { ["prompt"] = "none login" }, "invalid_request", true },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Bad_authorization_request_is_refused_without_effect(string attack, Dictionary<string, string?> changes, string error, bool redirected)
    {
        using var browser = broker.Env.Server.CreateBrowser();
        var before = await StateSnapshot.TakeAsync(broker.Env.Server);
        var auditBefore = (await broker.Env.Server.AuditAsync()).Count;
        var (_, challenge) = Oauth.Pkce();
        var url = Oauth.AuthorizeUrl(TestConfiguration.WebClient, Registered, "openid", "st-" + attack.Length, "n", challenge,
            new Dictionary<string, string?>(changes) { ["login_hint"] = "alice@stmarys.example" });

        var response = await browser.GetAsync(url);

        if (redirected)
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            var location = response.Headers.Location!;
            Assert.StartsWith(Registered + "?", location.AbsoluteUri, StringComparison.Ordinal);
            Assert.Contains($"error={error}", location.Query, StringComparison.Ordinal);
            Assert.Contains("state=st-", location.Query, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.Contains($"<strong>{error}</strong>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(before, await StateSnapshot.TakeAsync(broker.Env.Server));
        Assert.Equal(0, broker.Env.Idp.AuthorizeRequests);
        var audit = (await broker.Env.Server.AuditAsync()).Skip(auditBefore).ToList();
        Assert.Contains(audit, a => a.Event == "authorization.refused" && a.Outcome == "failure" && a.Reason!.StartsWith(error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Missing_PKCE_from_a_public_client_is_refused_at_its_redirect_uri()
    {
        using var browser = broker.Env.Server.CreateBrowser();
        var before = await StateSnapshot.TakeAsync(broker.Env.Server);
        var lastAuditId = (await broker.Env.Server.AuditAsync()).LastOrDefault()?.Id ?? 0;

        var response = await browser.GetAsync(Oauth.AuthorizeUrl(TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid", "s", "n", challenge: null));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("error=invalid_request", response.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.Equal(before, await StateSnapshot.TakeAsync(broker.Env.Server));
        var recorded = (await broker.Env.Server.AuditAsync()).Where(a => a.Id > lastAuditId).ToList();
        var refusal = Assert.Single(recorded);
        Assert.Equal("authorization.refused", refusal.Event);
        Assert.Equal(TestConfiguration.PublicClient, refusal.ClientId);
        Assert.StartsWith("invalid_request:", refusal.Reason, StringComparison.Ordinal);
    }
}

/// <summary>One broker shared by the rows of a hostile-input table; each row proves it changed nothing.</summary>
public sealed class SharedBroker : IAsyncLifetime
{
    public BrokeredSignIn Env { get; private set; } = null!;

    public async Task InitializeAsync() => Env = await BrokeredSignIn.StartAsync();

    public async Task DisposeAsync() => await Env.DisposeAsync();
}
