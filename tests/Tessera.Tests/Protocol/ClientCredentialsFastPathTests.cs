using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;
using static Tessera.Telemetry.TesseraTelemetry;
using static Tessera.Tests.Infrastructure.TokenAnswers;

namespace Tessera.Tests.Protocol;

/// <summary>
/// The lean client_credentials path against OpenIddict's pipeline: the same grant sent with HTTP Basic (answered by the
/// lean path, as the token metric's <c>token.path</c> shows) and with client_secret_post (always the pipeline) must give
/// the same answer, headers, token shape, audit row and metric; and every request that is not a plain success must
/// reach the pipeline and get its error.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class ClientCredentialsFastPathTests
{
    private const string RsService = "rs-service";
    private static readonly string RsSecret = Tessera.Protocol.ClientSecretHasher.Generate();

    private static void Configure(TesseraOptions options) => options.Clients.Add(new ClientOptions
    {
        ClientId = RsService,
        Type = "confidential",
        ClientSecret = RsSecret,
        GrantTypes = ["client_credentials"],
        Scopes = ["read:orders", "write:orders"],
        Audiences = [TestConfiguration.OrdersAudience, TestConfiguration.ReportsAudience],
        SigningAlgorithm = "RS256",
        AccessTokenLifetime = TimeSpan.FromMinutes(5),
    });

    private static Dictionary<string, string> Grant(string? scope, (string Id, string Secret)? post = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        if (post is { } client)
        {
            form["client_id"] = client.Id;
            form["client_secret"] = client.Secret;
        }

        return form;
    }

    public static TheoryData<string, string, string?> Grants => new()
    {
        { TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, null },
        { TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "write:orders" },
        { TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "read:orders write:orders" },
        { RsService, RsSecret, null },
        { RsService, RsSecret, "read:orders" },
    };

    [Theory]
    [MemberData(nameof(Grants))]
    public async Task The_lean_path_answers_exactly_as_the_pipeline_does(string clientId, string secret, string? scope)
    {
        var telemetry = new TelemetryCapture();
        await using var server = await TesseraTestServer.StartAsync(Configure, services: telemetry.Compose);
        telemetry.From(server);
        using var http = server.CreateClient();

        var lean = await SendAsync(http, Grant(scope), basic: $"{clientId}:{secret}");
        var pipeline = await SendAsync(http, Grant(scope, (clientId, secret)));

        TokenAnswers.AssertSameSuccess(pipeline, lean);
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "pipeline")));
        var leanToken = lean.AccessToken;

        var audit = await server.AuditAsync(rows => rows.Count(r => r.Event == AuditEvents.TokenIssued) == 2);
        var rows = audit.Where(r => r.Event == AuditEvents.TokenIssued).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal((rows[1].ClientId, rows[1].Outcome, rows[1].Detail, rows[1].IpAddress), (rows[0].ClientId, rows[0].Outcome, rows[0].Detail, rows[0].IpAddress));

        // What the pipeline reads back: introspection sees the lean token active, and revocation ends it.
        var introspected = await Oauth.IntrospectAsync(http, clientId, secret, leanToken.EncodedToken);
        Assert.Equal("true", introspected["active"]);
        Assert.Equal(200, (await Oauth.RevokeAsync(http, clientId, secret, leanToken.EncodedToken)).Status);
        Assert.Equal("false", (await Oauth.IntrospectAsync(http, clientId, secret, leanToken.EncodedToken))["active"]);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded;charset=UTF-8")] // as openid-client sends it
    [InlineData("application/x-www-form-urlencoded; charset=\"utf-8\"")]
    [InlineData("Application/X-WWW-Form-UrlEncoded")]
    public async Task A_form_in_UTF_8_with_or_without_its_charset_takes_the_lean_path(string contentType)
    {
        var telemetry = new TelemetryCapture();
        await using var server = await TesseraTestServer.StartAsync(services: telemetry.Compose);
        telemetry.From(server);
        using var http = server.CreateClient();

        var answer = await SendAsync(http, Grant("write:orders"), Basic(), contentType);

        Assert.Equal(200, answer.Status);
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
    }

    [Fact]
    public async Task Under_an_issuer_with_a_path_the_lean_path_answers_only_at_the_token_endpoint_discovery_names()
    {
        var telemetry = new TelemetryCapture();
        await using var server = await TesseraTestServer.StartAsync(options => options.Issuer = "https://login.example.com/tenant-a", services: telemetry.Compose);
        telemetry.From(server);
        using var http = server.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(".well-known/openid-configuration"));
        var endpoint = discovery.RootElement.GetProperty("token_endpoint").GetString()!;
        Assert.Equal("https://login.example.com/tenant-a/token", endpoint);

        var answered = await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret);
        var outside = await Oauth.PostAsync(http, "https://login.example.com/token", Grant(null), (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret));

        Assert.Equal(200, answered.Status);
        Assert.Equal("https://login.example.com/tenant-a", answered.AccessToken.Issuer);
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
        Assert.Equal(outside.Status == 200 ? 1 : 0, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "pipeline"))); // outside the path: the pipeline's to judge
    }

    /// <summary>Requests at the edge of the lean path: each goes on to the pipeline, which answers it as before.</summary>
    public static TheoryData<string, Dictionary<string, string>, string?, string, int, string?> Edges => new()
    {
        { "a wrong secret", Grant(null), $"{TestConfiguration.ServiceClient}:not-the-secret", "application/x-www-form-urlencoded", 401, "invalid_client" },
        { "an unknown client", Grant(null), "nobody:whatever-secret", "application/x-www-form-urlencoded", 401, "invalid_client" },
        { "a scope the client is not registered for", Grant("read:reports"), Basic(), "application/x-www-form-urlencoded", 400, "invalid_scope" },
        { "a user scope", Grant("openid write:orders"), Basic(), "application/x-www-form-urlencoded", 400, "invalid_scope" },
        { "a scope with an empty part", Grant("write:orders  read:orders"), Basic(), "application/x-www-form-urlencoded", 200, null },
        { "a resource it is not registered for", new() { ["grant_type"] = "client_credentials", ["resource"] = TestConfiguration.ReportsAudience }, Basic(), "application/x-www-form-urlencoded", 400, "invalid_target" },
        { "a resource it is registered for", new() { ["grant_type"] = "client_credentials", ["resource"] = TestConfiguration.OrdersAudience }, Basic(), "application/x-www-form-urlencoded", 200, null },
        { "another grant type", new() { ["grant_type"] = "password", ["username"] = "a", ["password"] = "b" }, Basic(), "application/x-www-form-urlencoded", 400, "unsupported_grant_type" },
        { "Basic and client_secret at once", Grant(null, (TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret)), Basic(), "application/x-www-form-urlencoded", 400, "invalid_request" },
        { "a client that may not use the grant", Grant(null), $"{TestConfiguration.WebClient}:{TestConfiguration.WebSecret}", "application/x-www-form-urlencoded", 400, "unauthorized_client" },
        { "a JSON body", Grant(null), Basic(), "application/json", 400, "invalid_request" },
        { "a form in another charset", Grant(null), Basic(), "application/x-www-form-urlencoded; charset=ISO-8859-1", 200, null },
        { "a form with another parameter", Grant(null), Basic(), "application/x-www-form-urlencoded; charset=utf-8; q=1", 200, null },
    };

    [Theory]
    [MemberData(nameof(Edges))]
    public async Task What_the_lean_path_does_not_answer_reaches_the_pipeline_and_gets_its_answer(string edge, Dictionary<string, string> form, string? basic, string contentType, int status, string? error)
    {
        var telemetry = new TelemetryCapture();
        await using var server = await TesseraTestServer.StartAsync(services: telemetry.Compose);
        telemetry.From(server);
        using var http = server.CreateClient();

        var answer = await SendAsync(http, form, basic, contentType);

        Assert.True(answer.Status == status, $"{edge}: {answer.Status} {answer.Json}");
        Assert.True(error is null || answer.Json.GetProperty("error").GetString() == error, $"{edge}: {answer.Json}");
        Assert.Equal(0, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
        if (status == 200)
        {
            Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "pipeline")));
        }
        else
        {
            var audit = await server.AuditAsync(rows => rows.Any(r => r.Event == AuditEvents.TokenRequestRefused));
            Assert.Contains(audit, r => r.Event == AuditEvents.TokenRequestRefused);
        }
    }

    [Fact]
    public async Task A_client_admitted_on_the_lean_path_is_admitted_again_only_with_its_secret_and_its_permissions()
    {
        // The lean path remembers what the application manager answered for an admitted client; what it remembers must
        // admit nothing the manager would refuse.
        var telemetry = new TelemetryCapture();
        await using var server = await TesseraTestServer.StartAsync(configure: Configure, services: telemetry.Compose);
        telemetry.From(server);
        using var http = server.CreateClient();

        Assert.Equal(200, (await SendAsync(http, Grant("read:orders"), $"{RsService}:{RsSecret}")).Status);
        Assert.Equal(200, (await SendAsync(http, Grant("read:orders"), $"{RsService}:{RsSecret}")).Status);
        Assert.Equal(2, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));

        var wrong = await SendAsync(http, Grant("read:orders"), $"{RsService}:{RsSecret[..^2]}xy");
        Assert.Equal(401, wrong.Status);
        Assert.Equal("invalid_client", wrong.Json.GetProperty("error").GetString());
        var another = await SendAsync(http, Grant("read:orders"), $"{RsService}:{TestConfiguration.ServiceSecret}");
        Assert.Equal(401, another.Status);
        var unknownScope = await SendAsync(http, Grant("admin:orders"), $"{RsService}:{RsSecret}");
        Assert.Equal("invalid_scope", unknownScope.Json.GetProperty("error").GetString());
        Assert.Equal(2, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
    }

    private static string Basic() => $"{TestConfiguration.ServiceClient}:{TestConfiguration.ServiceSecret}";
}
