using Microsoft.EntityFrameworkCore;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Admin;

/// <summary>
/// Bad Admin API requests: each gets its problem detail (never a 5xx), changes nothing in the managed configuration,
/// and a refused change is audited.
/// </summary>
public sealed class HostileAdminRequestTests(AdminFixture fixture) : IClassFixture<AdminFixture>
{
    private TesseraTestServer Server => fixture.Env.Server;

    public static TheoryData<string, string, string, string?, string, int, string, string?> Rows => new()
    {
        // attack, method, path, body, content type, status, code, the error path it names (if any)
        { "body larger than the Admin API reads", "POST", "organizations", "{\"Id\":\"big\",\"DisplayName\":\"" + new string('x', 1_100_000) + "\"}", "application/json", 413, "body_too_large", null },
        { "body that is not JSON", "POST", "organizations", "{\"Id\": acme", "application/json", 400, "invalid_request", null },
        { "a member given twice (parsers disagree on which wins)", "POST", "organizations", "{\"Id\":\"x0\",\"id\":\"st-marys\"}", "application/json", 400, "invalid_request", null },
        { "a nested member given twice", "POST", "organizations", "{\"Id\":\"x0\",\"Scim\":{\"Match\":\"email\",\"Match\":\"externalId\"}}", "application/json", 400, "invalid_request", null },
        { "JSON array instead of an object", "POST", "organizations", "[{\"Id\":\"x\"}]", "application/json", 400, "invalid_request", null },
        { "JSON nested deeper than anything Tessera reads", "POST", "organizations", new string('[', 100) + new string(']', 100), "application/json", 400, "invalid_request", null },
        { "form instead of JSON", "POST", "organizations", "Id=evil", "application/x-www-form-urlencoded", 415, "unsupported_media_type", null },
        { "setting that does not exist", "POST", "organizations", "{\"Id\":\"x1\",\"Colour\":\"red\"}", "application/json", 400, "invalid_configuration", "$.Colour" },
        { "setting of the wrong type", "POST", "organizations", "{\"Id\":\"x2\",\"Domains\":{\"a\":1}}", "application/json", 400, "invalid_configuration", "$.Domains" },
        { "env: reference to read the server's environment", "POST", "organizations/acme/connections", "{\"Id\":\"c1\",\"Protocol\":\"oidc\",\"Authority\":\"https://idp.example\",\"ClientId\":\"t\",\"ClientSecret\":\"env:TESSERA_KEY_ENCRYPTION_KEY\"}", "application/json", 400, "invalid_configuration", "$.ClientSecret" },
        { "organization id with a path in it", "POST", "organizations", "{\"Id\":\"../st-marys\"}", "application/json", 400, "invalid_configuration", "$.Id" },
        { "organization without an id", "POST", "organizations", "{\"DisplayName\":\"nameless\"}", "application/json", 400, "invalid_configuration", "$.Id" },
        { "id of an organization in the file", "POST", "organizations", "{\"Id\":\"st-marys\"}", "application/json", 409, "already_exists", null },
        { "domain of another organization", "POST", "organizations", "{\"Id\":\"x3\",\"Domains\":[\"STMARYS.example\"]}", "application/json", 400, "invalid_configuration", "$.Domains[0]" },
        { "SCIM tokens inline in an organization", "POST", "organizations", "{\"Id\":\"x4\",\"Scim\":{\"Tokens\":[\"0123456789abcdef0123456789abcdef01\"]}}", "application/json", 400, "invalid_configuration", "$.Scim.Tokens" },
        { "connections inline in an organization", "POST", "organizations", "{\"Id\":\"x5\",\"Connections\":[]}", "application/json", 400, "invalid_configuration", "$.Connections" },
        { "connection of an organization that does not exist", "POST", "organizations/nowhere/connections", "{\"Id\":\"c2\",\"Protocol\":\"oidc\"}", "application/json", 404, "not_found", null },
        { "connection with an unknown protocol", "POST", "organizations/acme/connections", "{\"Id\":\"c3\",\"Protocol\":\"ldap\"}", "application/json", 400, "invalid_configuration", "$.Protocol" },
        { "connection id already used by the file", "POST", "organizations/acme/connections", "{\"Id\":\"stmarys-oidc\",\"Protocol\":\"oidc\",\"Authority\":\"https://idp.example\",\"ClientId\":\"t\",\"ClientSecret\":\"s\"}", "application/json", 409, "already_exists", null },
        { "connection with a status that does not exist", "POST", "organizations/acme/connections", "{\"Id\":\"c4\",\"Protocol\":\"oidc\",\"Authority\":\"https://idp.example\",\"ClientId\":\"t\",\"ClientSecret\":\"s\",\"status\":\"live\"}", "application/json", 400, "invalid_configuration", "$.status" },
        { "SAML connection whose metadata is not XML", "POST", "organizations/acme/connections", "{\"Id\":\"c5\",\"Protocol\":\"saml2\",\"MetadataXml\":\"<md:EntityDescriptor\"}", "application/json", 400, "invalid_configuration", "$.MetadataXml" },
        { "rule granting a claim Tessera sets itself", "POST", "organizations/acme/rules", "{\"When\":{\"groups\":\"x\"},\"Grant\":{\"Claims\":{\"sub\":\"admin\"}}}", "application/json", 400, "invalid_configuration", "$.Grant.Claims.sub" },
        { "rule with a wildcard scope", "POST", "organizations/acme/rules", "{\"When\":{\"groups\":\"x\"},\"Grant\":{\"Scopes\":[\"*\"]}}", "application/json", 400, "invalid_configuration", "$.Grant.Scopes[0]" },
        { "client with a secret of its own choosing", "POST", "clients", "{\"ClientId\":\"k1\",\"Type\":\"confidential\",\"ClientSecret\":\"hunter2hunter2hunter2\",\"GrantTypes\":[\"client_credentials\"]}", "application/json", 400, "invalid_configuration", "$.ClientSecret" },
        { "client with a wildcard scope", "POST", "clients", "{\"ClientId\":\"k2\",\"Type\":\"confidential\",\"GrantTypes\":[\"client_credentials\"],\"Scopes\":[\"*\"]}", "application/json", 400, "invalid_configuration", "$.Scopes[0]" },
        { "client redirecting to plain http", "POST", "clients", "{\"ClientId\":\"k3\",\"Type\":\"public\",\"GrantTypes\":[\"authorization_code\"],\"RedirectUris\":[\"http://evil.example/cb\"]}", "application/json", 400, "invalid_configuration", "$.RedirectUris[0]" },
        { "exchange policy of a client that does not exist", "POST", "exchange-policies", "{\"ClientId\":\"ghost\",\"SubjectIssuers\":[\"tessera\"],\"Audiences\":[\"https://a.example\"]}", "application/json", 400, "invalid_configuration", "$.ClientId" },
        { "replacement that renames the resource", "PUT", "organizations/acme", "{\"Id\":\"acme2\"}", "application/json", 400, "invalid_configuration", "$.Id" },
        { "replacement of an organization in the file", "PUT", "organizations/st-marys", "{\"Id\":\"st-marys\"}", "application/json", 409, "managed_by_file", null },
        { "replacement of something that does not exist", "PUT", "organizations/ghost", "{\"Id\":\"ghost\"}", "application/json", 404, "not_found", null },
        { "deletion of a file client", "DELETE", "clients/orders-service", null, "application/json", 409, "managed_by_file", null },
        { "deletion of something that does not exist", "DELETE", "trusted-issuers/ghost", null, "application/json", 404, "not_found", null },
        { "rotation of a file client's secret", "POST", "clients/orders-service/secrets", null, "application/json", 409, "managed_by_file", null },
        { "rotation with an overlap that is not a duration", "POST", "clients/orders-service/secrets?overlap=forever", null, "application/json", 400, "invalid_request", null },
        { "user id that is not one", "POST", "users/not-a-user/disable", null, "application/json", 404, "not_found", null },
        { "disable with a reason that is not a string", "POST", "users/00000000-0000-0000-0000-000000000000/disable", "{\"reason\":42}", "application/json", 404, "not_found", null },
        { "audit window that is not a time", "GET", "audit?from=yesterday", null, "application/json", 400, "invalid_request", null },
        { "audit page larger than allowed", "GET", "audit?limit=100000", null, "application/json", 400, "invalid_request", null },
        { "audit filter given twice", "GET", "audit?event=a&event=b", null, "application/json", 400, "invalid_request", null },
        { "user search offset that is not a number", "GET", "users?offset=-1", null, "application/json", 400, "invalid_request", null },
        { "endpoint that does not exist", "GET", "tenants", null, "application/json", 404, "not_found", null },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task A_bad_request_gets_its_problem_and_changes_nothing(string attack, string method, string path, string? body, string contentType, int status, string code, string? errorPath)
    {
        using var admin = await AdminApi.PlatformAsync(Server);
        var before = await ManagedStateAsync();
        var lastAudit = (await Server.AuditAsync()).LastOrDefault()?.Id ?? 0;

        var response = await AdminApi.SendAsync(admin, new HttpMethod(method), path, body, contentType: contentType);

        Assert.True(status == response.Status && code == response.Code, $"{attack}: expected {status} {code}, got {response}");
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Equal(status, response.Body["status"]!.GetValue<int>());
        if (errorPath is not null)
        {
            Assert.Contains(errorPath, response.ErrorPaths);
            Assert.Contains($"{errorPath}: ", response.Body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(before, await ManagedStateAsync());
        if (method != "GET")
        {
            var audit = (await Server.AuditAsync(rows => rows.Any(a => a.Id > lastAudit && a.Event == "admin.refused"))).Where(a => a.Id > lastAudit);
            Assert.Contains(audit, a => a.Event == "admin.refused" && a.ClientId == AdminApi.PlatformClient && a.Reason!.StartsWith(code, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_corpus_of_malformed_requests_never_gets_a_5xx()
    {
        using var admin = await AdminApi.PlatformAsync(Server);
        var paths = new[] { "organizations", "organizations/corpus", "organizations/corpus/connections", "organizations/corpus/connections/x", "organizations/corpus/rules/x",
            "organizations/corpus/scim-tokens", "organizations/corpus/scim-tokens/x", "clients", "clients/x", "clients/x/secrets", "clients/x/secrets/y", "trusted-issuers/x",
            "exchange-policies/x", "signal-receivers/x", "users", "users/x", "users/x/sessions", "users/x/sessions/y", "audit", "organizations/%2e%2e", "organizations/%ff" };
        var bodies = new string?[] { null, "", "null", "{}", "\"x\"", "{\"Id\":null}", "{\"Id\":[]}", "{\"Id\":\"\\u0000\"}", "{\"Id\":\"a\",\"Id\":\"b\"}", "\uFEFF{}", "{\"Domains\":[null]}" };
        foreach (var method in new[] { "GET", "POST", "PUT", "DELETE", "PATCH" })
        {
            foreach (var path in paths)
            {
                foreach (var body in method is "GET" or "DELETE" ? [null] : bodies)
                {
                    var response = await AdminApi.SendAsync(admin, new HttpMethod(method), path, body);
                    Assert.True(response.Status < 500, $"{method} {path} {body}: {response}");
                }
            }
        }

        Assert.Equal(fixture.Revision, await Server.WithDbAsync(db => db.ConfigurationRevisions.Select(r => r.Revision).SingleAsync()));
    }

    private Task<(long Revision, int Resources, int ScimTokens)> ManagedStateAsync() => Server.WithDbAsync(async db => (
        await db.ConfigurationRevisions.Select(r => r.Revision).SingleAsync(),
        await db.ManagedResources.CountAsync(),
        await db.ScimTokens.CountAsync()));
}
