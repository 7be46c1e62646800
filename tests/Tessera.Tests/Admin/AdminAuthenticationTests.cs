using System.Net.Http.Headers;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Admin;

/// <summary>Who may call the Admin API: RFC 6750 §3.1 answers for every way in that is not allowed, each audited.</summary>
public sealed class AdminAuthenticationTests(AdminFixture fixture) : IClassFixture<AdminFixture>
{
    private TesseraTestServer Server => fixture.Env.Server;

    public static TheoryData<string, string, string, string, int, string?> Refusals => new()
    {
        // what it stands for, whose token, method, path, status, the WWW-Authenticate error (null: none, as for no credentials)
        { "no token at all", "none", "GET", "organizations", 401, null },
        { "a string that is not a token", "garbage", "GET", "organizations", 401, "invalid_token" },
        { "a token signed with a key Tessera never had", "forged", "GET", "organizations", 401, "invalid_token" },
        { "a token meant for another API (audience)", "audience", "GET", "organizations", 401, "invalid_token" },
        { "a revoked token", "revoked", "GET", "organizations", 401, "invalid_token" },
        { "a client without any admin scope", "service", "GET", "organizations", 403, "insufficient_scope" },
        { "an organization's admin reading another organization", "org", "GET", "organizations/acme", 403, "insufficient_scope" },
        { "an organization's admin on another organization's connections", "org", "GET", "organizations/acme/connections", 403, "insufficient_scope" },
        { "an organization's admin creating an organization", "org", "POST", "organizations", 403, "insufficient_scope" },
        { "an organization's admin deleting its own organization", "org", "DELETE", "organizations/st-marys", 403, "insufficient_scope" },
        { "an organization's admin on clients", "org", "GET", "clients", 403, "insufficient_scope" },
        { "an organization's admin on trusted issuers", "org", "GET", "trusted-issuers", 403, "insufficient_scope" },
        { "an organization's admin on exchange policies", "org", "GET", "exchange-policies", 403, "insufficient_scope" },
        { "an organization's admin on signal receivers", "org", "GET", "signal-receivers", 403, "insufficient_scope" },
        { "an organization's admin on another organization's SCIM tokens", "org", "GET", "organizations/acme/scim-tokens", 403, "insufficient_scope" },
        { "an organization's admin searching another organization's users", "org", "GET", "users?organization=acme", 403, "insufficient_scope" },
        { "an organization's admin reading another organization's audit", "org", "GET", "audit?organization=acme", 403, "insufficient_scope" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Requests_without_the_right_token_are_refused_as_RFC_6750_says(string attack, string who, string method, string path, int status, string? error)
    {
        using var http = await ClientAsync(who);
        var lastAudit = (await Server.AuditAsync()).LastOrDefault()?.Id ?? 0;

        var response = await AdminApi.SendAsync(http, new HttpMethod(method), path, method == "POST" ? new { Id = "mallory-org" } : null);

        Assert.True(status == response.Status, $"{attack}: expected {status}, got {response}");
        Assert.Equal("application/problem+json", response.ContentType);
        var challenge = response.Authenticate!;
        Assert.StartsWith("Bearer realm=\"tessera-admin\"", challenge, StringComparison.Ordinal);
        if (error is null)
        {
            Assert.DoesNotContain("error=", challenge, StringComparison.Ordinal); // RFC 6750 §3.1: no error code without credentials
        }
        else
        {
            Assert.Contains($"error=\"{error}\"", challenge, StringComparison.Ordinal);
        }

        if (status == 403)
        {
            var scope = path.Contains("acme", StringComparison.Ordinal) ? "tessera:admin:org:acme" : "tessera:admin";
            Assert.Contains($"scope=\"{scope}\"", challenge, StringComparison.Ordinal);
        }

        var audit = (await Server.AuditAsync(rows => rows.Any(a => a.Id > lastAudit && a.Event == "admin.refused"))).Where(a => a.Id > lastAudit).ToList();
        Assert.Contains(audit, a => a.Event == "admin.refused" && a.Outcome == "failure");
        Assert.Null(await fixture.ManagedAsync("organization", "mallory-org"));
    }

    [Fact]
    public async Task An_organization_admin_sees_its_own_organization_only()
    {
        using var http = await AdminApi.OrganizationAsync(Server);

        var list = await AdminApi.GetAsync(http, "organizations");
        var own = await AdminApi.GetAsync(http, "organizations/st-marys");

        Assert.Equal(200, list.Status);
        Assert.Equal(["st-marys"], list.Body["items"]!.AsArray().Select(o => o!["Id"]!.GetValue<string>()));
        Assert.Equal(200, own.Status);
        Assert.Equal("file", own.Body["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_OpenAPI_document_is_generated_from_the_endpoints()
    {
        using var http = Server.CreateClient();

        var response = await http.GetAsync("admin/v1/openapi.json");
        var document = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToHashSet();
        foreach (var path in new[]
        {
            "/admin/v1/organizations", "/admin/v1/organizations/{id}", "/admin/v1/organizations/{organizationId}/connections",
            "/admin/v1/organizations/{organizationId}/connections/{id}", "/admin/v1/organizations/{organizationId}/rules",
            "/admin/v1/organizations/{organizationId}/scim-tokens", "/admin/v1/clients", "/admin/v1/clients/{id}/secrets",
            "/admin/v1/trusted-issuers", "/admin/v1/exchange-policies", "/admin/v1/signal-receivers", "/admin/v1/users",
            "/admin/v1/users/{id}/disable", "/admin/v1/users/{id}/sessions", "/admin/v1/audit",
        })
        {
            Assert.Contains(path, paths);
        }

        // The body of a connection is described by the settings type, the same fields as the file.
        var create = document["paths"]!["/admin/v1/organizations/{organizationId}/connections"]!["post"]!;
        var body = create["requestBody"]!["content"]!["application/json"]!["schema"]!["properties"]!.AsObject();
        Assert.Contains("Authority", body.Select(p => p.Key));
        Assert.Contains("MetadataXml", body.Select(p => p.Key));
        Assert.Contains("\"Authority\"", document["components"]!["schemas"]!["ConnectionOptions"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(paths, p => p.StartsWith("/scim", StringComparison.Ordinal) || p.StartsWith("/token", StringComparison.Ordinal));
    }

    private async Task<HttpClient> ClientAsync(string who)
    {
        switch (who)
        {
            case "org":
                return await AdminApi.OrganizationAsync(Server);
            case "service":
                return await AdminApi.ClientAsync(Server, AdminFixture.PlainClient, AdminFixture.PlainSecret);
            case "audience":
                return await AdminApi.ClientAsync(Server, AdminFixture.AudienceClient, AdminFixture.AudienceSecret);
            case "revoked":
                {
                    var http = await AdminApi.PlatformAsync(Server);
                    using var plain = Server.CreateClient();
                    var revoked = await Oauth.RevokeAsync(plain, AdminApi.PlatformClient, AdminApi.PlatformSecret, http.DefaultRequestHeaders.Authorization!.Parameter!);
                    Assert.Equal(200, revoked.Status);
                    return http;
                }
        }

        var client = Server.CreateClient();
        client.BaseAddress = new Uri(Server.BaseAddress, "admin/v1/");
        if (who == "garbage")
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not.a-token");
        }
        else if (who == "forged")
        {
            // Everything right but the key: an ES256 key of the attacker's own.
            var key = new ECDsaSecurityKey(System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256)) { KeyId = Server.Keys.PublishedSigningKeys().First().Id };
            var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = await Server.DiscoveredIssuerAsync(),
                Audience = await Server.DiscoveredIssuerAsync(),
                TokenType = "at+jwt",
                Claims = new Dictionary<string, object> { ["client_id"] = AdminApi.PlatformClient, ["scope"] = "tessera:admin", ["jti"] = Guid.NewGuid().ToString() },
                SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
            });
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }
}

/// <summary>One server for the Admin API tests that only read, or refuse: the admin clients, St Mary's (file) and Acme (managed).</summary>
public sealed class AdminFixture : IAsyncLifetime
{
    public const string AudienceClient = "reports-admin";
    public const string PlainClient = "nightly-export";
    public static readonly string PlainSecret = Tessera.Protocol.ClientSecretHasher.Generate();
    public static readonly string AudienceSecret = Tessera.Protocol.ClientSecretHasher.Generate();

    public BrokeredSignIn Env { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Env = await BrokeredSignIn.StartAsync(options =>
        {
            AdminApi.AddClients(options);
            options.Clients.Add(new Tessera.Hosting.ClientOptions
            {
                ClientId = AudienceClient,
                Type = "confidential",
                ClientSecret = AudienceSecret,
                GrantTypes = ["client_credentials"],
                Scopes = ["tessera:admin"],
                Audiences = [TestConfiguration.ReportsAudience],
            });
            options.Clients.Add(new Tessera.Hosting.ClientOptions
            {
                ClientId = PlainClient,
                Type = "confidential",
                ClientSecret = PlainSecret,
                GrantTypes = ["client_credentials"],
                Scopes = ["export:run"],
            });
        });
        using var admin = await AdminApi.PlatformAsync(Env.Server);
        var created = await AdminApi.PostAsync(admin, "organizations", new { Id = "acme", DisplayName = "Acme", Domains = new[] { "acme.example" } });
        Assert.True(created.Status == 201, created.ToString());
        Revision = await Env.Server.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.ConfigurationRevisions.Select(r => r.Revision)));
    }

    /// <summary>The configuration revision once the fixture is set up; tests that change nothing leave it there.</summary>
    public long Revision { get; private set; }

    public Task<Tessera.Storage.ManagedResourceRecord?> ManagedAsync(string kind, string id) =>
        Env.Server.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstOrDefaultAsync(db.ManagedResources, r => r.Kind == kind && r.Id == id));

    public async Task DisposeAsync() => await Env.DisposeAsync();
}
