using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Security;

/// <summary>Invariant 8: no secret or token value reaches the logs or the audit log, whatever the outcome.</summary>
public sealed class SecretsNeverLoggedTests
{
    [Fact]
    public async Task A_full_session_leaves_no_secret_or_token_in_logs_or_audit()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (outcome, tokens) = await env.SignInAsync(browser);
        var refreshed = await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);
        var reuse = await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!); // reuse: logged as a warning
        var service = await Oauth.ClientCredentialsAsync(env.Http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret);
        var wrongSecret = await Oauth.ClientCredentialsAsync(env.Http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret + "x");
        var introspected = await Oauth.IntrospectAsync(env.Http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, tokens["access_token"]!);
        var revoked = await Oauth.RevokeAsync(env.Http, TestConfiguration.PublicClient, null, refreshed["refresh_token"]!);
        env.Idp.ClaimsEditor = c => c["aud"] = "someone-else"; // a failed upstream validation logs a warning
        using var other = env.Server.CreateBrowser();
        var refusedUpstream = await Oauth.AuthorizeAsync(other, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["connection"] = TestConfiguration.Connection });

        // Each step took the path it stands for, so the logs below hold what those paths write.
        Assert.Equal(200, refreshed.Status);
        Assert.Equal("invalid_grant", reuse.Error);
        Assert.Equal(200, service.Status);
        Assert.Equal("invalid_client", wrongSecret.Error);
        Assert.Equal(200, introspected.Status);
        Assert.Equal(200, revoked.Status);
        Assert.Null(refusedUpstream.Code);
        Assert.Contains(env.Server.Logs.Lines, l => l.StartsWith("Warning Tessera.Federation", StringComparison.Ordinal) && l.Contains("another client", StringComparison.Ordinal));

        var secrets = new[]
        {
            tokens["access_token"]!, tokens["refresh_token"]!, tokens["id_token"]!, refreshed["access_token"]!, refreshed["refresh_token"]!,
            service["access_token"]!, outcome.Code!, outcome.Verifier, TestConfiguration.ServiceSecret, TestConfiguration.ResourceServerSecret,
            FakeUpstreamIdp.ClientSecret, env.Server.Options.Keys.EncryptionKey, browser.Cookie("tessera.session")!,
        };
        var audit = await env.Server.AuditAsync();
        var everything = string.Join("\n", env.Server.Logs.Lines) + "\n" + string.Join("\n", audit.Select(a => $"{a.Reason} {a.Detail} {a.UserAgent} {a.ClientId}"));

        Assert.NotEmpty(env.Server.Logs.Lines);
        foreach (var secret in secrets)
        {
            Assert.False(everything.Contains(secret, StringComparison.Ordinal), $"a secret or token value ({secret[..Math.Min(12, secret.Length)]}...) was logged");
            // Tokens are long; even a recognisable slice must not appear.
            Assert.False(secret.Length > 40 && everything.Contains(secret[10..40], StringComparison.Ordinal), "a slice of a secret was logged");
        }
    }
}
