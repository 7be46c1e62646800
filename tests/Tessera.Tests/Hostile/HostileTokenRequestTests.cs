using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Hostile;

/// <summary>Bad token requests: the RFC 6749 §5.2 error, no state change, an audit row.</summary>
public sealed class HostileTokenRequestTests(SharedBroker broker) : IClassFixture<SharedBroker>
{
    private BrokeredSignIn Env => broker.Env;

    private static string ServiceBasic(string secret) => secret;

    public static TheoryData<string, Func<Dictionary<string, string>>, (string Id, string Secret)?, string> ClientRows => new()
    {
        // attack, form, basic credentials, expected error
        { "wrong client secret", () => new() { ["grant_type"] = "client_credentials" }, (TestConfiguration.ServiceClient, "wrong-secret-but-long-enough"), "invalid_client" },
        { "secret of another client", () => new() { ["grant_type"] = "client_credentials" }, (TestConfiguration.ServiceClient, TestConfiguration.ResourceServerSecret), "invalid_client" },
        { "unknown client", () => new() { ["grant_type"] = "client_credentials" }, ("mallory", "mallory-secret-0123456789"), "invalid_client" },
        { "confidential client without credentials", () => new() { ["grant_type"] = "client_credentials", ["client_id"] = TestConfiguration.ServiceClient }, null, "invalid_client" },
        { "grant type the client may not use", () => new() { ["grant_type"] = "client_credentials" }, (TestConfiguration.WebClient, TestConfiguration.WebSecret), "unauthorized_client" },
        { "public client asking for client credentials", () => new() { ["grant_type"] = "client_credentials", ["client_id"] = TestConfiguration.PublicClient }, null, "unauthorized_client" },
        { "scope the client is not registered for", () => new() { ["grant_type"] = "client_credentials", ["scope"] = "read:reports" }, (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret), "invalid_scope" },
        { "wildcard scope", () => new() { ["grant_type"] = "client_credentials", ["scope"] = "*" }, (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret), "invalid_scope" },
        { "user scope with client credentials", () => new() { ["grant_type"] = "client_credentials", ["scope"] = "openid" }, (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret), "invalid_scope" },
        { "resource the client is not registered for", () => new() { ["grant_type"] = "client_credentials", ["resource"] = "https://reports.example" }, (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret), "invalid_target" },
        { "unsupported grant type", () => new() { ["grant_type"] = "password", ["username"] = "a", ["password"] = "b" }, (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret), "unsupported_grant_type" },
        { "oversized parameter", () => new() { ["grant_type"] = "client_credentials", ["scope"] = new string('x', 5000) }, (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret), "invalid_request" },
        { "garbage refresh token", () => new() { ["grant_type"] = "refresh_token", ["refresh_token"] = "not-a-token", ["client_id"] = TestConfiguration.PublicClient }, null, "invalid_grant" },
        { "garbage authorization code", () => new() { ["grant_type"] = "authorization_code", ["code"] = "not-a-code", ["redirect_uri"] = TestConfiguration.PublicRedirect, ["code_verifier"] = new string('v', 43), ["client_id"] = TestConfiguration.PublicClient }, null, "invalid_grant" },
    };

    [Theory]
    [MemberData(nameof(ClientRows))]
    public async Task Bad_token_request_is_refused_without_effect(string attack, Func<Dictionary<string, string>> form, (string Id, string Secret)? basic, string error)
    {
        var before = await StateSnapshot.TakeAsync(Env.Server);
        var auditBefore = (await Env.Server.AuditAsync()).Count;

        var response = await Oauth.TokenAsync(Env.Http, form(), basic);

        Assert.True(error == response.Error, $"{attack}: expected {error}, got {response.Status} {response.Json}");
        Assert.Equal(error == "invalid_client" ? 401 : 400, response.Status); // RFC 6749 §5.2: a failed client authentication is 401, every other refusal 400
        Assert.Null(response["access_token"]);
        Assert.Equal(before, await StateSnapshot.TakeAsync(Env.Server));
        var audit = (await Env.Server.AuditAsync()).Skip(auditBefore).ToList();
        Assert.Contains(audit, a => a.Event == "token.refused" && a.Reason!.StartsWith(error, StringComparison.Ordinal));
    }

    public static TheoryData<string, string, string, string> CodeRows => new()
    {
        // attack, how the redemption departs from a valid one, expected error, client the refusal is recorded for
        { "wrong PKCE verifier", "verifier", "invalid_grant", TestConfiguration.PublicClient },
        { "code redeemed by another client", "client", "invalid_grant", TestConfiguration.WebClient },
        { "redirect_uri differs from the authorization request", "redirect", "invalid_grant", TestConfiguration.PublicClient },
        // RFC 6749 §5.2: a missing required parameter is invalid_request; a verifier that does not match is invalid_grant (RFC 7636 §4.6).
        { "verifier missing", "no-verifier", "invalid_request", TestConfiguration.PublicClient },
    };

    [Theory]
    [MemberData(nameof(CodeRows))]
    public async Task A_code_redeemed_wrongly_is_refused_and_audited(string attack, string variant, string error, string auditedClient)
    {
        using var browser = Env.Server.CreateBrowser();
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid offline_access",
            new Dictionary<string, string?> { ["login_hint"] = "alice@stmarys.example" });
        Assert.True(outcome.Code is not null, $"{attack}: expected a code, got {outcome.Redirect}");
        var before = await StateSnapshot.TakeAsync(Env.Server);
        var lastAuditId = (await Env.Server.AuditAsync()).LastOrDefault()?.Id ?? 0;
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = outcome.Code,
            ["client_id"] = TestConfiguration.PublicClient,
            ["redirect_uri"] = TestConfiguration.PublicRedirect,
            ["code_verifier"] = outcome.Verifier,
        };
        (string, string)? basic = null;
        switch (variant)
        {
            case "verifier": form["code_verifier"] = Oauth.Pkce().Verifier; break;
            case "no-verifier": form.Remove("code_verifier"); break;
            case "redirect": form["redirect_uri"] = TestConfiguration.PublicRedirect + "/other"; break;
            case "client": form.Remove("client_id"); basic = (TestConfiguration.WebClient, TestConfiguration.WebSecret); break;
        }

        var response = await Oauth.TokenAsync(Env.Http, form, basic);

        Assert.True(error == response.Error, $"{attack}: expected {error}, got {response.Status} {response.Json}");
        Assert.Equal(400, response.Status);
        Assert.Null(response["access_token"]);
        var after = await StateSnapshot.TakeAsync(Env.Server);
        Assert.Equal(before with { ValidTokens = 0, ValidAuthorizations = 0 }, after with { ValidTokens = 0, ValidAuthorizations = 0 });
        Assert.True(after.ValidTokens <= before.ValidTokens, "a failed redemption must not issue tokens");
        var recorded = (await Env.Server.AuditAsync()).Where(a => a.Id > lastAuditId).ToList();
        var refusal = Assert.Single(recorded);
        Assert.Equal("token.refused", refusal.Event);
        Assert.Equal("failure", refusal.Outcome);
        Assert.Equal(auditedClient, refusal.ClientId);
        Assert.StartsWith(error + ":", refusal.Reason, StringComparison.Ordinal);
    }
}
