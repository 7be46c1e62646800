using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Risk;
using Tessera.Tests.Infrastructure;
using static Tessera.Telemetry.TesseraTelemetry;
using static Tessera.Tests.Infrastructure.ExchangeArrangement;
using static Tessera.Tests.Infrastructure.TokenAnswers;

namespace Tessera.Tests.Exchange;

/// <summary>
/// The lean path's token exchange against OpenIddict's pipeline: the same exchange sent with HTTP Basic (answered by
/// the lean path, as the token metric's <c>token.path</c> shows) and with client_secret_post (always the pipeline)
/// must give the same answer, headers, token, audit row, metrics and span; and every exchange that is not a plain
/// success of a foreign JWT must reach the pipeline and get its answer.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class LeanTokenExchangeTests
{
    private static Dictionary<string, string> Exchange(string subjectToken, string subjectTokenType = JwtType, Dictionary<string, string>? extra = null, bool post = false)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = ExchangeArrangement.Exchange,
            ["subject_token"] = subjectToken,
            ["subject_token_type"] = subjectTokenType,
        };
        foreach (var (name, value) in extra ?? [])
        {
            form[name] = value;
        }

        if (post)
        {
            form["client_id"] = Gateway;
            form["client_secret"] = Secret;
        }

        return form;
    }

    private static string Basic(string client = Gateway) => $"{client}:{Secret}";

    public static TheoryData<string, string, string?, string?, string?, bool> Exchanges => new()
    {
        // subject token type, the partner user, scope, requested token type, the audience or resource named, whether the
        // lean path goes first (and makes the user)
        { JwtType, "ext-lean-1", null, null, null, true },
        { JwtType, "ext-lean-2", "write:orders", null, null, false },
        { AccessTokenType, "ext-lean-3", "read:orders write:orders", null, null, true },
        { JwtType, "ext-lean-4", "read:orders", AccessTokenType, null, false },
        { JwtType, "ext-lean-5", "write:orders", null, $"audience={TestConfiguration.OrdersAudience}", true },
        { JwtType, "ext-lean-6", "read:orders", null, $"resource={TestConfiguration.OrdersAudience}", false },
        // The client's other policy, chosen by its audience; its scope comes from the subject's role.
        { AccessTokenType, "ext-lean-7", "doctor_access", null, $"audience={TestConfiguration.ReportsAudience}", true },
        { JwtType, "ext-lean-8", null, null, $"resource={TestConfiguration.ReportsAudience}", false },
    };

    [Theory]
    [MemberData(nameof(Exchanges))]
    public async Task The_lean_path_exchanges_exactly_as_the_pipeline_does(string subjectTokenType, string user, string? scope, string? requested, string? target, bool leanFirst)
    {
        var telemetry = new TelemetryCapture();
        await using var x = await ExchangeArrangement.StartAsync(services: telemetry.Compose);
        telemetry.From(x.Server);
        var extra = new Dictionary<string, string>();
        if (scope is not null)
        {
            extra["scope"] = scope;
        }

        if (requested is not null)
        {
            extra["requested_token_type"] = requested;
        }

        if (target?.Split('=', 2) is [var parameter, var audience])
        {
            extra[parameter] = audience;
        }

        // A mapped claim (department becomes dept) travels into both tokens.
        var subject = x.PortalToken(user, c =>
        {
            c["department"] = "cardiology";
            c["role"] = "doctor";
        });
        Answer lean, pipeline;
        if (leanFirst)
        {
            lean = await SendAsync(x.Http, Exchange(subject, subjectTokenType, extra), Basic());
            pipeline = await SendAsync(x.Http, Exchange(subject, subjectTokenType, extra, post: true));
        }
        else
        {
            pipeline = await SendAsync(x.Http, Exchange(subject, subjectTokenType, extra, post: true));
            lean = await SendAsync(x.Http, Exchange(subject, subjectTokenType, extra), Basic());
        }

        AssertSameSuccess(pipeline, lean);
        Assert.Equal("cardiology", lean.AccessToken.GetPayloadValue<string>("dept"));
        Assert.Equal([target?.Split('=')[1] ?? TestConfiguration.OrdersAudience], lean.AccessToken.Audiences);
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "pipeline")));
        Assert.Equal(2, telemetry.Counter("tessera.exchanges", (Tags.Outcome, Success), (Tags.Issuer, "partner-portal")));

        var audit = await x.Server.AuditAsync(rows => rows.Count(r => r.Event == AuditEvents.TokenExchanged) == 2);
        var rows = audit.Where(r => r.Event == AuditEvents.TokenExchanged).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal((rows[1].ClientId, rows[1].Outcome, rows[1].UserId, rows[1].OrganizationId, rows[1].Reason, rows[1].Detail, rows[1].IpAddress),
            (rows[0].ClientId, rows[0].Outcome, rows[0].UserId, rows[0].OrganizationId, rows[0].Reason, rows[0].Detail, rows[0].IpAddress));
        Assert.Equal(lean.AccessToken.Subject, rows[0].UserId);
        Assert.Equal(1, await x.Server.WithDbAsync(db => db.ExternalIdentities.CountAsync(l => l.Subject == user)));

        var spans = telemetry.SpansNamed(Spans.ExchangeValidate);
        Assert.Equal(2, spans.Count);
        Assert.Equal(SpanTags(spans[1]), SpanTags(spans[0]));
        Assert.Contains((Tags.Outcome, (object?)Success), SpanTags(spans[0]));
    }

    [Fact]
    public async Task A_token_the_lean_path_issued_is_what_an_API_and_Tessera_itself_read()
    {
        await using var x = await ExchangeArrangement.StartAsync();
        var lean = await SendAsync(x.Http, Exchange(x.PortalToken("ext-api"), extra: new() { ["scope"] = "write:orders" }), Basic());
        Assert.Equal(200, lean.Status);

        // Signed with a key discovery publishes, for the policy's audience, by the issuer discovery names.
        var token = lean.AccessToken;
        var result = await new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().ValidateTokenAsync(token.EncodedToken, new Microsoft.IdentityModel.Tokens.TokenValidationParameters
        {
            ValidIssuer = TesseraTestServer.Issuer + "/",
            ValidAudience = TestConfiguration.OrdersAudience,
            IssuerSigningKeys = (await x.JwksAsync()).GetSigningKeys(),
            ValidTypes = ["at+jwt"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);

        // Introspection sees it active for the API's client, and revocation ends it.
        var introspected = await Oauth.IntrospectAsync(x.Http, Gateway, Secret, token.EncodedToken);
        Assert.Equal("true", introspected["active"]);
        Assert.Equal(200, (await Oauth.RevokeAsync(x.Http, Gateway, Secret, token.EncodedToken)).Status);
        Assert.Equal("false", (await Oauth.IntrospectAsync(x.Http, Gateway, Secret, token.EncodedToken))["active"]);
    }

    /// <summary>Exchanges at the edge of the lean path: each goes on to the pipeline, which answers it as before.</summary>
    public static TheoryData<string, Func<ExchangeArrangement, Task<(IEnumerable<KeyValuePair<string, string>> Form, string Basic)>>, int, string?> Edges => new()
    {
        { "an actor token (delegation)", async x => (Exchange(x.PortalToken(), extra: new() { ["actor_token"] = await x.ServiceTokenAsync(), ["actor_token_type"] = AccessTokenType }), Basic()), 200, null },
        { "an audience no policy names", x => Ready(Exchange(x.PortalToken(), extra: new() { ["audience"] = "https://elsewhere.example" })), 400, "invalid_target" },
        { "an audience and a resource no one policy names", x => Ready(Exchange(x.PortalToken(), extra: new() { ["audience"] = TestConfiguration.OrdersAudience, ["resource"] = TestConfiguration.ReportsAudience })), 400, "invalid_target" },
        { "a resource that is not an absolute URI", x => Ready(Exchange(x.PortalToken(), extra: new() { ["resource"] = "orders" })), 400, "invalid_request" },
        { "a resource with a fragment", x => Ready(Exchange(x.PortalToken(), extra: new() { ["resource"] = TestConfiguration.OrdersAudience + "#x" })), 400, "invalid_request" },
        { "a resource the client is not registered for", x => Ready(Exchange(x.PortalToken(), extra: new() { ["resource"] = "https://elsewhere.example" })), 400, "invalid_target" },
        { "a resource that is not a web URI", x => Ready(Exchange(x.PortalToken(), extra: new() { ["resource"] = "urn:example:orders" })), 400, "invalid_target" },
        { "a plain JWT asked for", x => Ready(Exchange(x.PortalToken(), extra: new() { ["requested_token_type"] = JwtType })), 200, null },
        { "an ID token asked for", x => Ready(Exchange(x.PortalToken(), extra: new() { ["requested_token_type"] = "urn:ietf:params:oauth:token-type:id_token" })), 200, null },
        { "Tessera's own access token", async x => (Exchange(await x.ServiceTokenAsync(), AccessTokenType), Basic()), 400, "invalid_grant" },
        { "an expired subject token", x => Ready(Exchange(x.PortalToken(change: c => c["exp"] = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds()))), 400, "invalid_request" },
        { "an issuer the client may not exchange from", x => Ready(Exchange(x.Other.Sign("other-1", PortalClaims(change: c => c["iss"] = OtherIssuer)))), 400, "invalid_request" },
        { "a forged signature", x => Ready(Exchange(x.PortalToken()[..^4] + "AAAA")), 400, "invalid_request" },
        { "a wrong secret", x => Task.FromResult(((IEnumerable<KeyValuePair<string, string>>)Exchange(x.PortalToken()), $"{Gateway}:not-the-secret")), 401, "invalid_client" },
        { "a scope beyond the policy", x => Ready(Exchange(x.PortalToken(), extra: new() { ["scope"] = "doctor_access" })), 400, "invalid_scope" },
        { "a scope the client is not registered for", x => Ready(Exchange(x.PortalToken(), extra: new() { ["scope"] = "read:reports" })), 400, "invalid_scope" },
        { "a client no policy names", x => Task.FromResult(((IEnumerable<KeyValuePair<string, string>>)Exchange(x.PortalToken()), Basic(Unpoliced))), 400, "unauthorized_client" },
        { "a SAML assertion type for a JWT", x => Ready(Exchange(x.PortalToken(), "urn:ietf:params:oauth:token-type:saml2")), 400, "invalid_request" },
        { "the subject token twice", x => Ready(Exchange(x.PortalToken()), duplicate: "subject_token"), 400, "invalid_request" },
    };

    private static Task<(IEnumerable<KeyValuePair<string, string>>, string)> Ready(Dictionary<string, string> form, string? duplicate = null) =>
        Task.FromResult((duplicate is null ? form : form.Append(new(duplicate, form[duplicate])), Basic()));

    [Theory]
    [MemberData(nameof(Edges))]
    public async Task What_the_lean_path_does_not_answer_reaches_the_pipeline_and_gets_its_answer(string edge, Func<ExchangeArrangement, Task<(IEnumerable<KeyValuePair<string, string>> Form, string Basic)>> request, int status, string? error)
    {
        var telemetry = new TelemetryCapture();
        await using var x = await ExchangeArrangement.StartAsync(services: telemetry.Compose);
        telemetry.From(x.Server);
        var (form, basic) = await request(x);
        var leanBefore = telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")); // the actor's own token may have taken it

        var answer = await SendAsync(x.Http, form, basic);

        Assert.True(answer.Status == status, $"{edge}: {answer.Status} {answer.Json}");
        Assert.True(error is null || answer.Json.GetProperty("error").GetString() == error, $"{edge}: {answer.Json}");
        Assert.Equal(leanBefore, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
        if (status == 200)
        {
            Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.GrantType, ExchangeArrangement.Exchange), (Tags.TokenPath, "pipeline")));
            return;
        }

        // The refusal is audited once, and its verification reported by one span at most: the pipeline's.
        var audit = await x.Server.AuditAsync(rows => rows.Any(r => r.Event is AuditEvents.TokenExchangeRefused or AuditEvents.TokenRequestRefused));
        Assert.Single(audit, r => r.Event is AuditEvents.TokenExchangeRefused or AuditEvents.TokenRequestRefused);
        Assert.InRange(telemetry.SpansNamed(Spans.ExchangeValidate).Count, 0, 1);
    }

    [Fact]
    public async Task A_deprovisioned_user_found_by_the_lean_path_is_refused_by_the_pipeline()
    {
        var telemetry = new TelemetryCapture();
        await using var x = await ExchangeArrangement.StartAsync(services: telemetry.Compose);
        telemetry.From(x.Server);
        var first = await SendAsync(x.Http, Exchange(x.PortalToken("ext-leaver")), Basic());
        Assert.Equal(200, first.Status);
        var userId = Guid.Parse(first.AccessToken.Subject);
        await x.Server.WithDbAsync(async db =>
        {
            var user = await db.Users.SingleAsync(u => u.Id == userId);
            user.DisabledAt = DateTime.UtcNow;
            return await db.SaveChangesAsync();
        });

        var refused = await SendAsync(x.Http, Exchange(x.PortalToken("ext-leaver")), Basic());

        Assert.Equal((400, "invalid_grant"), (refused.Status, refused.Json.GetProperty("error").GetString()));
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
        Assert.Equal(1, telemetry.Counter("tessera.exchanges", (Tags.Outcome, Failure), (Tags.Error, "user_disabled"), (Tags.Issuer, "partner-portal")));
    }

    [Fact]
    public async Task An_organization_an_anomaly_rule_watches_is_exchanged_by_the_pipeline()
    {
        var telemetry = new TelemetryCapture();
        await using var x = await ExchangeArrangement.StartAsync(options =>
            options.Anomaly.Rules = [new AnomalyRuleOptions { Rule = AnomalyRuleOptions.TwoCountries, Action = AnomalyActions.Log }], services: telemetry.Compose);
        telemetry.From(x.Server);

        var answer = await SendAsync(x.Http, Exchange(x.PortalToken("ext-watched")), Basic());

        Assert.Equal(200, answer.Status);
        Assert.Equal(0, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "pipeline")));
        Assert.Equal(1, await x.Server.WithDbAsync(db => db.Users.CountAsync(u => u.Id == Guid.Parse(answer.AccessToken.Subject))));
    }

    [Fact]
    public async Task An_audience_that_is_no_URI_is_exchanged_on_the_lean_path_and_as_a_resource_refused_by_the_pipeline()
    {
        // A client audience may be any identifier; OpenIddict takes it as an RFC 8693 audience, but a resource must be an
        // absolute URI (RFC 8707 §2), so the lean path leaves a resource that is not a web URI to the pipeline.
        var telemetry = new TelemetryCapture();
        await using var x = await ExchangeArrangement.StartAsync(options =>
        {
            options.Clients.Single(c => c.ClientId == Gateway).Audiences.Add("orders-api");
            options.ExchangePolicies.Add(new ExchangePolicyOptions
            {
                ClientId = Gateway,
                SubjectIssuers = ["partner-portal"],
                Audiences = ["orders-api"],
                Scopes = ["write:orders"],
                Impersonation = true,
                JustInTimeUsers = true,
            });
        }, services: telemetry.Compose);
        telemetry.From(x.Server);
        var subject = x.PortalToken("ext-orders-api");

        var pipeline = await SendAsync(x.Http, Exchange(subject, extra: new() { ["audience"] = "orders-api" }, post: true));
        var lean = await SendAsync(x.Http, Exchange(subject, extra: new() { ["audience"] = "orders-api" }), Basic());
        var resource = await SendAsync(x.Http, Exchange(subject, extra: new() { ["resource"] = "orders-api" }), Basic());

        AssertSameSuccess(pipeline, lean);
        Assert.Equal(["orders-api"], lean.AccessToken.Audiences);
        Assert.Equal((400, "invalid_request"), (resource.Status, resource.Json.GetProperty("error").GetString()));
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "lean")));
        Assert.Equal(1, telemetry.Counter("tessera.tokens.issued", (Tags.TokenPath, "pipeline")));
    }

    private static List<(string, object?)> SpanTags(System.Diagnostics.Activity span) =>
        [.. span.TagObjects.Select(t => (t.Key, t.Value)).OrderBy(t => t.Key, StringComparer.Ordinal)];
}
