using System.Net;
using Microsoft.AspNetCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Protocol;

/// <summary>Refresh rotation, replay of spent grants, revocation and sign-out, seen through introspection.</summary>
public sealed class TokenLifecycleTests
{
    private static Task<OauthResponse> IntrospectAsync(BrokeredSignIn env, string token) =>
        Oauth.IntrospectAsync(env.Http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, token);

    private static bool Active(OauthResponse introspection) => introspection.Json.GetProperty("active").GetBoolean();

    [Fact]
    public async Task Refresh_rotates_the_refresh_token_and_keeps_the_subject_and_session()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        var refreshed = await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);

        Assert.Equal(200, refreshed.Status);
        Assert.NotEqual(tokens["refresh_token"], refreshed["refresh_token"]);
        Assert.Equal(tokens.AccessToken.Subject, refreshed.AccessToken.Subject);
        Assert.Equal(tokens.AccessToken.GetPayloadValue<string>("sid"), refreshed.AccessToken.GetPayloadValue<string>("sid"));
        Assert.Contains(await env.Server.AuditAsync(), a => a.Event == "token.refreshed" && a.ClientId == TestConfiguration.PublicClient);
    }

    [Fact]
    public async Task Reusing_a_spent_refresh_token_revokes_the_whole_family()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);
        var rotated = await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);
        Assert.True(Active(await IntrospectAsync(env, rotated["access_token"]!)));

        var replay = await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!);

        Assert.Equal("invalid_grant", replay.Error);
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, rotated["refresh_token"]!)).Error);
        Assert.False(Active(await IntrospectAsync(env, rotated["access_token"]!)));
        Assert.False(Active(await IntrospectAsync(env, tokens["access_token"]!)));
        Assert.Contains(await env.Server.AuditAsync(), a => a.Event == "token.refresh_reuse_detected" && a.UserId == tokens.AccessToken.Subject);
    }

    [Fact]
    public async Task Redeeming_a_code_twice_fails_and_revokes_what_the_first_redemption_issued()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (outcome, tokens) = await env.SignInAsync(browser);

        var replay = await Oauth.RedeemAsync(env.Http, TestConfiguration.PublicClient, null, TestConfiguration.PublicRedirect, outcome);

        Assert.Equal("invalid_grant", replay.Error);
        Assert.False(Active(await IntrospectAsync(env, tokens["access_token"]!)));
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Error);
        Assert.Contains(await env.Server.AuditAsync(), a => a.Event == "token.code_replay_detected");
    }

    [Fact]
    public async Task Revoking_a_refresh_token_revokes_its_family_and_nothing_else()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, first) = await env.SignInAsync(browser);
        var (_, second) = await env.SignInAsync(browser);

        var revoked = await Oauth.RevokeAsync(env.Http, TestConfiguration.PublicClient, null, first["refresh_token"]!);

        Assert.Equal(200, revoked.Status);
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, first["refresh_token"]!)).Error);
        Assert.False(Active(await IntrospectAsync(env, first["access_token"]!)));
        Assert.True(Active(await IntrospectAsync(env, second["access_token"]!)));
        Assert.Equal(200, (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, second["refresh_token"]!)).Status);
        Assert.Contains(await env.Server.AuditAsync(), a => a.Event == "token.revoked");
    }

    [Fact]
    public async Task Revoking_an_access_token_deactivates_only_that_token()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        Assert.Equal(200, (await Oauth.RevokeAsync(env.Http, TestConfiguration.PublicClient, null, tokens["access_token"]!)).Status);

        Assert.False(Active(await IntrospectAsync(env, tokens["access_token"]!)));
        Assert.Equal(200, (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Status);
    }

    [Fact]
    public async Task A_revoked_client_credentials_token_is_inactive_though_it_was_never_stored()
    {
        await using var server = await TesseraTestServer.StartAsync(options =>
            options.Clients.Single(c => c.ClientId == TestConfiguration.ResourceServer).Audiences.Add(TestConfiguration.OrdersAudience));
        using var http = server.CreateClient();
        var token = (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret))["access_token"]!;
        Assert.True(Active(await Oauth.IntrospectAsync(http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, token)));

        Assert.Equal(200, (await Oauth.RevokeAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, token)).Status);

        Assert.False(Active(await Oauth.IntrospectAsync(http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, token)));
        Assert.Equal(1, await server.WithDbAsync(db => db.RevokedTokens.CountAsync()));
    }

    [Fact]
    public async Task Revoking_one_client_credentials_token_many_times_at_once_succeeds_every_time()
    {
        await using var server = await TesseraTestServer.StartAsync(options =>
            options.Clients.Single(c => c.ClientId == TestConfiguration.ResourceServer).Audiences.Add(TestConfiguration.OrdersAudience));
        using var http = server.CreateClient();
        var token = (await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret))["access_token"]!;

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Oauth.RevokeAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, token)));

        Assert.All(answers, a => Assert.Equal(200, a.Status));
        Assert.False(Active(await Oauth.IntrospectAsync(http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, token)));
        var stored = await server.WithDbAsync(db => db.RevokedTokens.SingleAsync());
        Assert.True(stored.ExpiresAt > DateTime.UtcNow && stored.RevokedAt <= DateTime.UtcNow.AddSeconds(1), $"{stored.RevokedAt:o} {stored.ExpiresAt:o}");
    }

    [Fact]
    public async Task Signing_out_ends_the_session_and_every_token_issued_under_it()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);
        var other = await Oauth.AuthorizeAsync(browser, TestConfiguration.WebClient, TestConfiguration.WebRedirect, "openid offline_access");
        var otherTokens = await Oauth.RedeemAsync(env.Http, TestConfiguration.WebClient, TestConfiguration.WebSecret, TestConfiguration.WebRedirect, other);

        var logout = await browser.GetAsync($"logout?id_token_hint={tokens["id_token"]}&post_logout_redirect_uri={Uri.EscapeDataString("http://127.0.0.1:3000/signed-out")}&state=bye");

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.StartsWith("http://127.0.0.1:3000/signed-out", logout.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
        Assert.Contains("state=bye", logout.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.False(Active(await IntrospectAsync(env, tokens["access_token"]!)));
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Error);
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.WebClient, TestConfiguration.WebSecret, otherTokens["refresh_token"]!)).Error);
        var again = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["prompt"] = "none" });
        Assert.Equal("login_required", again.Error);
        var ended = Assert.Single(await env.Server.AuditAsync(), a => a.Event == "session.ended");
        Assert.Equal("signed out", ended.Reason);
    }

    [Fact]
    public async Task Sign_out_with_an_unregistered_post_logout_uri_is_refused_on_a_page()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        var logout = await browser.GetAsync($"logout?id_token_hint={tokens["id_token"]}&post_logout_redirect_uri={Uri.EscapeDataString("https://evil.example/")}");

        Assert.Equal(HttpStatusCode.BadRequest, logout.StatusCode);
        Assert.Null(logout.Headers.Location);
        Assert.True(Active(await IntrospectAsync(env, tokens["access_token"]!)));
    }

    [Fact]
    public async Task Introspection_is_answered_for_the_token_owner_and_the_audience_API_only()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);
        var accessToken = tokens["access_token"]!;

        var byApi = await IntrospectAsync(env, accessToken);
        var byStranger = await Oauth.IntrospectAsync(env.Http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, accessToken);
        var byWrongSecret = await Oauth.IntrospectAsync(env.Http, TestConfiguration.ResourceServer, "not-the-secret-at-all", accessToken);

        Assert.True(Active(byApi));
        Assert.Equal(tokens.AccessToken.Subject, byApi["sub"]);
        Assert.Equal(TestConfiguration.PublicClient, byApi["client_id"]);
        Assert.Contains("doctor_access", byApi["scope"]!.Split(' '));
        Assert.Equal("st-marys", byApi["org"]);
        Assert.False(Active(byStranger));
        Assert.Single(byStranger.Json.EnumerateObject()); // nothing but active:false
        Assert.Equal("invalid_client", byWrongSecret.Error);
    }

    [Fact]
    public async Task A_public_client_cannot_introspect()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);

        var response = await Oauth.PostAsync(env.Http, "introspect", new Dictionary<string, string> { ["token"] = tokens["access_token"]!, ["client_id"] = TestConfiguration.PublicClient });

        Assert.Equal("unauthorized_client", response.Error); // public clients hold no introspection permission
        Assert.Equal(400, response.Status);
    }

    [Fact]
    public async Task A_disabled_user_can_no_longer_refresh()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var browser = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(browser);
        var userId = Guid.Parse(tokens.AccessToken.Subject);
        await env.Server.WithDbAsync(db => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(u => u.SetProperty(x => x.DisabledAt, DateTime.UtcNow)));

        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Error);
    }

    [Theory]
    [InlineData("refresh_token")]
    [InlineData("authorization_code")]
    public async Task A_redemption_cut_off_after_the_old_token_was_spent_commits_nothing_and_the_retry_succeeds(string grant)
    {
        // The database goes away right after OpenIddict marked the old token redeemed and before it stored the new ones.
        var outage = new OutageDuringSignIn(context => context.Request.GrantType == grant);
        await using var env = await BrokeredSignIn.StartAsync(services: With(outage, OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order + 1));
        using var browser = env.Server.CreateBrowser();

        var (redeem, _) = await TokenToRedeemAsync(env, browser, grant);
        outage.Armed = true;
        var cut = await redeem();
        var retried = await redeem();

        Assert.True(outage.Fired);
        Assert.Equal(503, cut.Status);
        Assert.Equal("temporarily_unavailable", cut.Error);
        Assert.True(retried.Status == 200, $"the retry was refused: {retried.Json}");
        Assert.Equal(200, (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, retried["refresh_token"]!)).Status);
        Assert.DoesNotContain(await env.Server.AuditAsync(), a => a.Event is "token.refresh_reuse_detected" or "token.code_replay_detected");
    }

    [Fact]
    public async Task A_code_cut_off_after_it_was_made_stores_nothing_of_its_family_and_the_retry_succeeds()
    {
        // The database goes away after the code's entry was made and before the answer: the family the code starts, the
        // family's tie to the session and the code are stored together or not at all.
        var outage = new OutageDuringSignIn(context => context.EndpointType == OpenIddictServerEndpointType.Authorization);
        await using var env = await BrokeredSignIn.StartAsync(services: With(outage, OpenIddictServerHandlers.GenerateAuthorizationCode.Descriptor.Order + 1));
        using var browser = env.Server.CreateBrowser();
        await env.SignInAsync(browser);
        var stored = await StoredAsync(env);

        outage.Armed = true;
        var cut = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid offline_access");

        Assert.True(outage.Fired);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, cut.Response.StatusCode);
        Assert.Null(cut.Code);
        Assert.Equal(stored, await StoredAsync(env));

        var retried = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid offline_access");
        Assert.NotNull(retried.Code);
        Assert.Equal((stored.Authorizations + 1, stored.Ties + 1, stored.Tokens + 1), await StoredAsync(env));
        var redeemed = await Oauth.RedeemAsync(env.Http, TestConfiguration.PublicClient, null, TestConfiguration.PublicRedirect, retried);
        Assert.True(redeemed.Status == 200, $"the retried code was refused: {redeemed.Json}");
    }

    /// <summary>How many authorizations (token families), ties of a family to its session, and token entries are stored.</summary>
    private static Task<(int Authorizations, int Ties, int Tokens)> StoredAsync(BrokeredSignIn env) => env.Server.WithDbAsync(async db => (
        await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().CountAsync(),
        await db.SessionAuthorizations.CountAsync(),
        await db.Set<OpenIddictEntityFrameworkCoreToken>().CountAsync()));

    [Theory]
    [InlineData("refresh_token")]
    [InlineData("authorization_code")]
    public async Task Two_redemptions_of_one_token_at_once_issue_once_and_the_other_revokes_the_family(string grant)
    {
        // Both requests have found the token unspent before either redeems it: a replay racing the legitimate use.
        var race = new RedemptionRace(grant);
        await using var env = await BrokeredSignIn.StartAsync(services: With(race, BeforeRedeeming));
        using var browser = env.Server.CreateBrowser();

        var (redeem, earlierAccessToken) = await TokenToRedeemAsync(env, browser, grant);
        race.Armed = true;
        var answers = await Task.WhenAll(redeem(), redeem());

        Assert.True(race.Met, "the two redemptions did not meet");
        Assert.Single(answers, a => a.Status == 200);
        var refused = Assert.Single(answers, a => a.Status != 200);
        Assert.Equal(400, refused.Status);
        Assert.Equal("invalid_grant", refused.Error);

        // The one that was issued belongs to a family that a replay reached: none of it works any more.
        var issued = answers.Single(a => a.Status == 200);
        Assert.False(Active(await IntrospectAsync(env, issued["access_token"]!)));
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, issued["refresh_token"]!)).Error);
        if (earlierAccessToken is not null)
        {
            Assert.False(Active(await IntrospectAsync(env, earlierAccessToken)));
        }

        Assert.Contains(await env.Server.AuditAsync(), a => a.Event is "token.refresh_reuse_detected" or "token.code_replay_detected");
    }

    [Fact]
    public async Task A_family_revoked_while_its_refresh_is_under_way_refuses_it_and_stays_revoked()
    {
        // A sign-out or a deprovisioning revokes the family after the refresh token was checked and before the refresh commits.
        var revoke = new BeforeRedemption(async context =>
        {
            await using var scope = context.Transaction.GetHttpRequest()!.HttpContext.RequestServices.CreateAsyncScope();
            var checkedToken = context.Transaction.GetProperty<OpenIddictServerEvents.ProcessAuthenticationContext>(
                typeof(OpenIddictServerEvents.ProcessAuthenticationContext).FullName!)!.RefreshTokenPrincipal!;
            var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
            Assert.True(await tokens.RevokeByAuthorizationIdAsync(checkedToken.GetAuthorizationId()!) > 0);
        });
        await using var env = await BrokeredSignIn.StartAsync(services: With(revoke, BeforeRedeeming));
        using var browser = env.Server.CreateBrowser();
        var (redeem, _) = await TokenToRedeemAsync(env, browser, "refresh_token");

        revoke.Armed = true;
        var refused = await redeem();

        Assert.True(revoke.Fired);
        Assert.Equal(400, refused.Status);
        Assert.Equal("invalid_grant", refused.Error);
        var statuses = await env.Server.WithDbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Type!.EndsWith("refresh_token")).Select(t => t.Status).ToListAsync());
        Assert.Equal(["revoked"], statuses); // not marked redeemed after all, and no successor stored
        Assert.DoesNotContain(await env.Server.AuditAsync(), a => a.Event == "token.refresh_reuse_detected"); // late, not a replay
    }

    /// <summary>The server's services with one more OpenIddict event handler.</summary>
    /// <summary>The server's composition with <paramref name="handler"/> added to OpenIddict's sign-in, at <paramref name="order"/> among its handlers.</summary>
    private static Action<IServiceCollection> With(IOpenIddictServerHandler<OpenIddictServerEvents.ProcessSignInContext> handler, int order) =>
        services => services.AddOpenIddict().AddServer(server => server.AddEventHandler(
            OpenIddictServerHandlerDescriptor.CreateBuilder<OpenIddictServerEvents.ProcessSignInContext>()
                .UseSingletonHandler(handler)
                .SetOrder(order)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build()));

    /// <summary>Where the redemption tests' handlers run: after a token request's checks, before its redemption.</summary>
    private static int BeforeRedeeming => OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order - 10;

    /// <summary>
    /// A signed-in user's refresh token, or a fresh authorization code, and a way to redeem it (again and again); for a
    /// refresh token also the access token issued with it.
    /// </summary>
    private static async Task<(Func<Task<OauthResponse>> Redeem, string? AccessToken)> TokenToRedeemAsync(BrokeredSignIn env, Browser browser, string grant)
    {
        if (grant == "refresh_token")
        {
            var (_, tokens) = await env.SignInAsync(browser);
            return (() => Oauth.RefreshAsync(env.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!), tokens["access_token"]);
        }

        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid offline_access",
            new Dictionary<string, string?> { ["login_hint"] = env.Idp.Person.Email });
        return (() => Oauth.RedeemAsync(env.Http, TestConfiguration.PublicClient, null, TestConfiguration.PublicRedirect, outcome), null);
    }

    /// <summary>Runs an action once, when armed, after a token request's checks and before its redemption.</summary>
    private sealed class BeforeRedemption(Func<OpenIddictServerEvents.ProcessSignInContext, Task> action)
        : IOpenIddictServerHandler<OpenIddictServerEvents.ProcessSignInContext>
    {
        public bool Armed { get; set; }

        public bool Fired { get; private set; }

        public async ValueTask HandleAsync(OpenIddictServerEvents.ProcessSignInContext context)
        {
            if (Armed && context.EndpointType == OpenIddictServerEndpointType.Token)
            {
                Armed = false;
                Fired = true;
                await action(context);
            }
        }
    }

    /// <summary>Holds the first redemption of a token until a second has also been validated, then lets both go on.</summary>
    private sealed class RedemptionRace(string grant) : IOpenIddictServerHandler<OpenIddictServerEvents.ProcessSignInContext>
    {
        private readonly TaskCompletionSource _both = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public bool Armed { get; set; }

        public bool Met => _both.Task.IsCompletedSuccessfully;

        public async ValueTask HandleAsync(OpenIddictServerEvents.ProcessSignInContext context)
        {
            if (Armed && context.Request.GrantType == grant)
            {
                if (Interlocked.Increment(ref _arrived) == 2)
                {
                    _both.TrySetResult();
                }

                await _both.Task.WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
    }

    /// <summary>Throws what a lost database connection throws, once, at its place in a sign-in (a token or a code being issued).</summary>
    private sealed class OutageDuringSignIn(Func<OpenIddictServerEvents.ProcessSignInContext, bool> where) : IOpenIddictServerHandler<OpenIddictServerEvents.ProcessSignInContext>
    {
        public bool Armed { get; set; }

        public bool Fired { get; private set; }

        public ValueTask HandleAsync(OpenIddictServerEvents.ProcessSignInContext context)
        {
            if (Armed && where(context))
            {
                Armed = false;
                Fired = true;
                throw new TimeoutException("the database stopped answering");
            }

            return ValueTask.CompletedTask;
        }
    }
}
