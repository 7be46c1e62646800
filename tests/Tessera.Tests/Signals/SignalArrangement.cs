using Microsoft.Extensions.DependencyInjection;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Signals;

/// <summary>
/// St Mary's behind a fake upstream, with both browser apps registered for back-channel logout and an API registered as
/// a push receiver of Security Event Tokens, each on its own loopback port.
/// </summary>
public sealed class SignalArrangement : IAsyncDisposable
{
    public const string ApiReceiver = "reports-api";
    public const string ApiAuthorization = "Bearer reports-api-signals-0123456789";
    public const string PollReceiver = "siem";
    public const string PollAuthorization = "Bearer siem-poll-0123456789";

    private SignalArrangement(BrokeredSignIn host, SignalReceiver reports, SignalReceiver billing, SignalReceiver api)
    {
        Host = host;
        Reports = reports;
        Billing = billing;
        Api = api;
    }

    public BrokeredSignIn Host { get; }
    public TesseraTestServer Server => Host.Server;
    public HttpClient Http => Host.Http;

    /// <summary>The back-channel logout endpoint of reports-web (ES256 tokens).</summary>
    public SignalReceiver Reports { get; }

    /// <summary>The back-channel logout endpoint of billing-web (RS256 tokens).</summary>
    public SignalReceiver Billing { get; }

    /// <summary>The reports API's SET push endpoint.</summary>
    public SignalReceiver Api { get; }

    /// <param name="services">Last changes to the composition, as <see cref="TesseraTestServer.StartAsync"/> takes them.</param>
    public static async Task<SignalArrangement> StartAsync(Action<TesseraOptions>? configure = null, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var reports = await SignalReceiver.StartAsync();
        var billing = await SignalReceiver.StartAsync();
        var api = await SignalReceiver.StartAsync();
        var host = await BrokeredSignIn.StartAsync(options =>
        {
            ScimClient.Configure(options);
            options.Clients.Single(c => c.ClientId == TestConfiguration.PublicClient).BackchannelLogoutUri = reports.Url;
            options.Clients.Single(c => c.ClientId == TestConfiguration.WebClient).BackchannelLogoutUri = billing.Url;
            options.Signals.Receivers.Add(new SignalReceiverOptions
            {
                Id = ApiReceiver,
                Endpoint = api.Url,
                Authorization = ApiAuthorization,
                Audience = TestConfiguration.ReportsAudience,
            });
            options.Signals.Receivers.Add(new SignalReceiverOptions { Id = PollReceiver, Delivery = SignalReceiverOptions.Poll, Authorization = PollAuthorization });
            options.Signals.PollInterval = TimeSpan.FromMilliseconds(200);
            configure?.Invoke(options);
        }, time, services);
        return new SignalArrangement(host, reports, billing, api);
    }

    /// <summary>Signs Alice in to reports-web and billing-web in one SSO session; returns her id, the session id and both token responses.</summary>
    public async Task<(string UserId, string SessionId, OauthResponse Reports, OauthResponse Billing)> SignInToBothAppsAsync(Browser browser)
    {
        var (_, reports) = await Host.SignInAsync(browser);
        var outcome = await Oauth.AuthorizeAsync(browser, TestConfiguration.WebClient, TestConfiguration.WebRedirect, "openid email offline_access");
        var billing = await Oauth.RedeemAsync(Http, TestConfiguration.WebClient, TestConfiguration.WebSecret, TestConfiguration.WebRedirect, outcome);
        Assert.Equal(200, billing.Status);
        var sid = reports.AccessToken.GetClaim("sid").Value;
        Assert.Equal(sid, billing.IdToken.GetClaim("sid").Value);
        return (reports.AccessToken.Subject, sid, reports, billing);
    }

    public ScimClient Scim() => new(Http, TestConfiguration.Organization, ScimClient.StMarysToken);

    /// <summary>Provisions Alice over SCIM (she signed in first, so she is the same user) and returns her SCIM id.</summary>
    public async Task<string> ProvisionAsync(ScimClient scim)
    {
        var created = await scim.PostAsync("Users", ScimClient.User(Host.Idp.Person.Email, externalId: "00u-alice"));
        Assert.Equal(201, created.Status);
        return created.Id;
    }

    /// <summary>Sets Alice's <c>active</c> over SCIM, as Entra ID does (PATCH), and expects 200.</summary>
    public async Task SetActiveAsync(ScimClient scim, string id, bool active) =>
        Assert.Equal(200, (await scim.PatchAsync($"Users/{id}", ScimClient.Patch(ScimClient.Op("replace", "active", active)))).Status);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Reports.DisposeAsync();
        await Billing.DisposeAsync();
        await Api.DisposeAsync();
    }
}
