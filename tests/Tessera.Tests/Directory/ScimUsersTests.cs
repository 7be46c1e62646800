using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Directory;

public sealed class ScimUsersTests
{
    private static async Task<(TesseraTestServer Server, ScimClient Scim, HttpClient Http)> StartAsync()
    {
        var server = await TesseraTestServer.StartAsync(options => ScimClient.Configure(options));
        var http = server.CreateClient();
        return (server, new ScimClient(http, TestConfiguration.Organization, ScimClient.StMarysToken), http);
    }

    [Fact]
    public async Task A_created_user_is_read_back_with_its_id_meta_and_etag()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;

        var created = await scim.PostAsync("Users", ScimClient.User("alice@stmarys.example", externalId: "00u1"));

        Assert.Equal(201, created.Status);
        Assert.Equal("application/scim+json", created.ContentType);
        Assert.True(Guid.TryParse(created.Id, out var id));
        Assert.Equal($"http://localhost/scim/v2/st-marys/Users/{id}", created.Location);
        Assert.Equal("W/\"0\"", created.ETag);
        Assert.Equal("W/\"0\"", created.Json!["meta"]!["version"]!.GetValue<string>());
        Assert.Equal("User", created.Json["meta"]!["resourceType"]!.GetValue<string>());
        Assert.Equal("00u1", created.Json["externalId"]!.GetValue<string>());
        Assert.True(created.Json["active"]!.GetValue<bool>());

        var read = await scim.GetAsync($"Users/{id}");
        Assert.Equal(200, read.Status);
        Assert.Equal("alice@stmarys.example", read.Json!["userName"]!.GetValue<string>());
        Assert.Equal("Alice", read.Json["name"]!["givenName"]!.GetValue<string>());

        // The SCIM id is the internal user: its profile is what tokens will say.
        var user = await server.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == id));
        Assert.Equal("st-marys", user.OrganizationId);
        Assert.Equal("alice@stmarys.example", user.Email);
        Assert.Equal("Alice", user.GivenName);
        Assert.Equal("Adams", user.FamilyName);
        Assert.Null(user.DisabledAt);

        var audit = await server.AuditAsync();
        var row = Assert.Single(audit, a => a.Event == "scim.user.created");
        Assert.Equal(id.ToString(), row.UserId);
        Assert.Contains("name.givenName", row.Detail);
    }

    [Fact]
    public async Task UserName_is_unique_per_organization_without_regard_to_case()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        Assert.Equal(201, (await scim.PostAsync("Users", ScimClient.User("bob@stmarys.example"))).Status);

        var again = await scim.PostAsync("Users", ScimClient.User("BOB@stmarys.example"));

        Assert.Equal(409, again.Status);
        Assert.Equal("uniqueness", again.ScimType);
        Assert.Equal(ScimSchemasError, again.Json!["schemas"]![0]!.GetValue<string>());
        Assert.Equal("409", again.Json["status"]!.GetValue<string>());

        // The same userName in another organization is another user.
        var northwind = new ScimClient(http, "northwind", ScimClient.NorthwindToken);
        Assert.Equal(201, (await northwind.PostAsync("Users", ScimClient.User("bob@stmarys.example"))).Status);
    }

    private const string ScimSchemasError = "urn:ietf:params:scim:api:messages:2.0:Error";

    [Fact]
    public async Task Put_replaces_the_resource_and_bumps_the_version()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        var id = (await scim.PostAsync("Users", ScimClient.User("carol@stmarys.example", givenName: "Carol"))).Id;
        var replacement = ScimClient.User("carol@stmarys.example", givenName: "Caroline", familyName: null);
        replacement.Remove("emails");

        var replaced = await scim.PutAsync($"Users/{id}", replacement, ifMatch: "W/\"0\"");

        Assert.Equal(200, replaced.Status);
        Assert.Equal("W/\"1\"", replaced.ETag);
        Assert.Equal("Caroline", replaced.Json!["name"]!["givenName"]!.GetValue<string>());
        Assert.Null(replaced.Json["name"]!["familyName"]);
        Assert.Null(replaced.Json["emails"]);
    }

    [Fact]
    public async Task A_stale_if_match_is_refused_with_412_and_changes_nothing()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        var id = (await scim.PostAsync("Users", ScimClient.User("dan@stmarys.example"))).Id;
        Assert.Equal(200, (await scim.PatchAsync($"Users/{id}", ScimClient.Patch(ScimClient.Op("replace", "title", "Nurse")))).Status);

        var stale = await scim.PatchAsync($"Users/{id}", ScimClient.Patch(ScimClient.Op("replace", "title", "Surgeon")), ifMatch: "W/\"0\"");
        var staleDelete = await scim.DeleteAsync($"Users/{id}", ifMatch: "W/\"0\"");

        Assert.Equal(412, stale.Status);
        Assert.Equal(412, staleDelete.Status);
        var read = await scim.GetAsync($"Users/{id}");
        Assert.Equal("Nurse", read.Json!["title"]!.GetValue<string>());
        Assert.Equal(304, (await scim.GetAsync($"Users/{id}", new Dictionary<string, string> { ["If-None-Match"] = read.ETag! })).Status);
    }

    [Fact]
    public async Task Patch_follows_rfc_7644_paths_filters_and_entra_shapes()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        var id = (await scim.PostAsync("Users", ScimClient.User("erin@stmarys.example"))).Id;

        var patched = await scim.PatchAsync($"Users/{id}", ScimClient.Patch(
            ScimClient.Op("Replace", "name.familyName", "Evans"),
            ScimClient.Op("Add", "emails[type eq \"home\"].value", "erin@home.example"),
            ScimClient.Op("replace", "emails[type eq \"work\"].value", "erin.evans@stmarys.example"),
            ScimClient.Op("add", null, new JsonObject
            {
                ["displayName"] = "Erin Evans",
                ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"] = "Cardiology",
                ["phoneNumbers[type eq \"mobile\"].value"] = "+44 7700 900123",
            })));

        Assert.Equal(200, patched.Status);
        var json = patched.Json!;
        Assert.Equal("Evans", json["name"]!["familyName"]!.GetValue<string>());
        Assert.Equal("Alice", json["name"]!["givenName"]!.GetValue<string>());
        Assert.Equal("Erin Evans", json["displayName"]!.GetValue<string>());
        var emails = json["emails"]!.AsArray();
        Assert.Equal(2, emails.Count);
        Assert.Contains(emails, e => e!["type"]!.GetValue<string>() == "work" && e["value"]!.GetValue<string>() == "erin.evans@stmarys.example" && e["primary"]!.GetValue<bool>());
        Assert.Contains(emails, e => e!["type"]!.GetValue<string>() == "home" && e["value"]!.GetValue<string>() == "erin@home.example");
        Assert.Equal("+44 7700 900123", json["phoneNumbers"]![0]!["value"]!.GetValue<string>());
        Assert.Equal("Cardiology", json["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]!["department"]!.GetValue<string>());
        Assert.Contains("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", json["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));

        var removed = await scim.PatchAsync($"Users/{id}", ScimClient.Patch(
            ScimClient.Op("remove", "emails[type eq \"home\"]", null),
            ScimClient.Op("remove", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", null)));
        Assert.Equal(200, removed.Status);
        Assert.Single(removed.Json!["emails"]!.AsArray());
        Assert.Null(removed.Json["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]);

        var user = await server.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == Guid.Parse(id)));
        Assert.Equal("erin.evans@stmarys.example", user.Email);
        Assert.Equal("Erin Evans", user.Name);
    }

    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    [Theory]
    [InlineData("the manager's id alone, as Entra ID sends it")]
    [InlineData("the complex value of RFC 7643 §4.3")]
    public async Task The_enterprise_manager_is_taken_as_an_id_or_as_a_complex_value(string form)
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        var manager = (await scim.PostAsync("Users", ScimClient.User("maria@stmarys.example"))).Id;
        var id = (await scim.PostAsync("Users", ScimClient.User("nick@stmarys.example"))).Id;
        JsonNode value = form.StartsWith("the manager's id", StringComparison.Ordinal) ? JsonValue.Create(manager) : new JsonObject { ["value"] = manager };

        var patched = await scim.PatchAsync($"Users/{id}", ScimClient.Patch(ScimClient.Op("Add", Enterprise + ":manager", value)));
        var created = ScimClient.User("olga@stmarys.example");
        created["schemas"]!.AsArray().Add(Enterprise);
        created[Enterprise] = new JsonObject { ["department"] = "Oncology", ["manager"] = value.DeepClone() };
        var posted = await scim.PostAsync("Users", created);

        Assert.Equal(200, patched.Status);
        Assert.Equal(manager, patched.Json![Enterprise]!["manager"]!["value"]!.GetValue<string>());
        Assert.Equal(201, posted.Status);
        Assert.Equal(manager, posted.Json![Enterprise]!["manager"]!["value"]!.GetValue<string>());
        Assert.Equal(400, (await scim.PatchAsync($"Users/{id}", ScimClient.Patch(ScimClient.Op("replace", "name", "Nick")))).Status);
    }

    public static TheoryData<string, object, int, string?> RefusedRequests() => new()
    {
        // what it stands for, the request body, the status, the scimType
        { "malformed JSON", "{\"schemas\": [", 400, "invalidSyntax" },
        { "a JSON array, not an object", "[]", 400, "invalidSyntax" },
        { "no schemas", new JsonObject { ["userName"] = "x@stmarys.example" }, 400, "invalidSyntax" },
        { "a schema URN a User does not carry", new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"), ["userName"] = "x@stmarys.example" }, 400, "invalidSyntax" },
        { "an unknown extension URN", new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User", "urn:example:evil"), ["userName"] = "x@stmarys.example" }, 400, "invalidSyntax" },
        { "no userName", new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User") }, 400, "invalidValue" },
        { "userName not a string", new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"), ["userName"] = 42 }, 400, "invalidValue" },
        { "active not a boolean", new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"), ["userName"] = "x@stmarys.example", ["active"] = "maybe" }, 400, "invalidValue" },
        { "two primary emails", new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"), ["userName"] = "x@stmarys.example", ["emails"] = new JsonArray(new JsonObject { ["value"] = "a@x", ["primary"] = true }, new JsonObject { ["value"] = "b@x", ["primary"] = true }) }, 400, "invalidValue" },
        { "a value over the length limit", new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"), ["userName"] = new string('x', 1025) }, 400, "invalidValue" },
        { "a body over 1 MB", "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"x\",\"title\":\"" + new string('x', 1024 * 1024) + "\"}", 413, null },
    };

    [Theory]
    [MemberData(nameof(RefusedRequests))]
    public async Task A_bad_create_is_refused_with_the_scim_error_and_creates_nothing(string attack, object body, int status, string? scimType)
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;

        var response = await scim.PostAsync("Users", body);

        Assert.True(status == response.Status, $"{attack}: {response}");
        Assert.Equal(scimType, response.ScimType);
        Assert.Equal(ScimSchemasError, response.Json?["schemas"]?[0]?.GetValue<string>());
        Assert.Equal(0, await server.WithDbAsync(db => db.DirectoryUsers.CountAsync()));
        Assert.Equal(0, await server.WithDbAsync(db => db.Users.CountAsync()));
        Assert.Contains(await server.AuditAsync(), a => a.Event == "scim.refused");
    }

    public static TheoryData<string, JsonObject, string> RefusedPatches() => new()
    {
        { "an attribute the schema does not have", ScimClient.Patch(ScimClient.Op("replace", "favouriteColour", "blue")), "invalidPath" },
        { "a sub-attribute the attribute does not have", ScimClient.Patch(ScimClient.Op("replace", "name.nickname", "Al")), "invalidPath" },
        { "a filter on a sub-attribute that does not exist", ScimClient.Patch(ScimClient.Op("replace", "emails[colour eq \"red\"].value", "x@y")), "invalidPath" },
        { "a broken path", ScimClient.Patch(ScimClient.Op("replace", "emails[type eq ", "x@y")), "invalidPath" },
        { "an unknown schema in the path", ScimClient.Patch(ScimClient.Op("replace", "urn:example:evil:User:x", "y")), "invalidPath" },
        { "a read-only attribute", ScimClient.Patch(ScimClient.Op("replace", "id", "another")), "mutability" },
        { "the groups a user is in", ScimClient.Patch(ScimClient.Op("add", "groups", new JsonArray(new JsonObject { ["value"] = "g" }))), "mutability" },
        { "removing the required userName", ScimClient.Patch(ScimClient.Op("remove", "userName", null)), "mutability" },
        { "remove without a path", ScimClient.Patch(ScimClient.Op("remove", null, null)), "noTarget" },
        { "an unknown op", ScimClient.Patch(ScimClient.Op("merge", "title", "x")), "invalidSyntax" },
        { "no PatchOp schema", new JsonObject { ["Operations"] = new JsonArray(ScimClient.Op("replace", "title", "x")) }, "invalidSyntax" },
        { "no operations", ScimClient.Patch(), "invalidSyntax" },
        { "a valid operation after a bad one", ScimClient.Patch(ScimClient.Op("replace", "title", "Changed"), ScimClient.Op("replace", "active", "perhaps")), "invalidValue" },
    };

    [Theory]
    [MemberData(nameof(RefusedPatches))]
    public async Task A_bad_patch_is_refused_and_changes_nothing(string attack, JsonObject body, string scimType)
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        var created = await scim.PostAsync("Users", ScimClient.User("frank@stmarys.example"));

        var response = await scim.PatchAsync($"Users/{created.Id}", body);

        Assert.True(response.Status == 400, $"{attack}: {response}");
        Assert.Equal(scimType, response.ScimType);
        var after = await scim.GetAsync($"Users/{created.Id}");
        Assert.Equal(created.ETag, after.ETag);
        Assert.True(JsonNode.DeepEquals(created.Json, after.Json), $"{attack}: {after}");
    }

    [Fact]
    public async Task Without_a_token_of_the_organization_nothing_is_read_or_changed()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        var id = (await scim.PostAsync("Users", ScimClient.User("gina@stmarys.example"))).Id;

        var none = await new ScimClient(http, TestConfiguration.Organization, null).GetAsync($"Users/{id}");
        var wrong = await new ScimClient(http, TestConfiguration.Organization, "not-a-token-of-anyone-0123456789abcdef").GetAsync($"Users/{id}");
        var other = new ScimClient(http, TestConfiguration.Organization, ScimClient.NorthwindToken);
        var read = await other.GetAsync($"Users/{id}");
        var delete = await other.DeleteAsync($"Users/{id}");
        var list = await other.GetAsync("Users");
        var unknownOrganization = await new ScimClient(http, "nowhere", ScimClient.StMarysToken).GetAsync("Users");
        var northwindOwnLookup = await new ScimClient(http, "northwind", ScimClient.NorthwindToken).GetAsync($"Users/{id}");

        Assert.Equal(401, none.Status);
        Assert.Equal(401, wrong.Status);
        Assert.Equal(404, read.Status);
        Assert.Equal(404, delete.Status);
        Assert.Equal(404, list.Status);
        Assert.Equal(404, unknownOrganization.Status);
        Assert.Equal(404, northwindOwnLookup.Status);
        Assert.Equal(200, (await scim.GetAsync($"Users/{id}")).Status);
    }

    [Fact]
    public async Task Delete_removes_the_resource_and_disables_the_user()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        var id = (await scim.PostAsync("Users", ScimClient.User("hal@stmarys.example"))).Id;

        Assert.Equal(204, (await scim.DeleteAsync($"Users/{id}")).Status);

        Assert.Equal(404, (await scim.GetAsync($"Users/{id}")).Status);
        Assert.Equal(404, (await scim.DeleteAsync($"Users/{id}")).Status);
        var user = await server.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == Guid.Parse(id)));
        Assert.NotNull(user.DisabledAt);
        Assert.Equal(0, await server.WithDbAsync(db => db.DirectoryUserValues.CountAsync()));
    }

    [Fact]
    public async Task Lists_filter_page_sort_and_project_as_rfc_7644_says()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;
        foreach (var name in new[] { "zoe", "yann", "xavier", "walt", "vera" })
        {
            Assert.Equal(201, (await scim.PostAsync("Users", ScimClient.User($"{name}@stmarys.example", externalId: "ext-" + name))).Status);
        }

        // What Entra ID and Okta send first: is there such a user? (Entra also probes with a random GUID.)
        var found = await scim.GetAsync("Users?filter=" + Uri.EscapeDataString("userName eq \"YANN@stmarys.example\""));
        var probe = await scim.GetAsync("Users?filter=" + Uri.EscapeDataString($"userName eq \"{Guid.NewGuid()}\"") + "&startIndex=1&count=100");
        var page = await scim.GetAsync("Users?sortBy=userName&sortOrder=descending&startIndex=2&count=2&attributes=userName,emails.value");
        var counted = await scim.GetAsync("Users?filter=" + Uri.EscapeDataString("externalId sw \"ext-\" and not (userName eq \"zoe@stmarys.example\")") + "&count=0");

        Assert.Equal(1, found.Json!["totalResults"]!.GetValue<int>());
        Assert.Equal("yann@stmarys.example", found.Json["Resources"]![0]!["userName"]!.GetValue<string>());
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:ListResponse", found.Json["schemas"]![0]!.GetValue<string>());
        Assert.Equal(0, probe.Json!["totalResults"]!.GetValue<int>());
        Assert.Empty(probe.Json["Resources"]!.AsArray());
        Assert.Equal(5, page.Json!["totalResults"]!.GetValue<int>());
        Assert.Equal(2, page.Json["startIndex"]!.GetValue<int>());
        Assert.Equal(2, page.Json["itemsPerPage"]!.GetValue<int>());
        var resources = page.Json["Resources"]!.AsArray();
        Assert.Equal(["yann@stmarys.example", "xavier@stmarys.example"], resources.Select(r => r!["userName"]!.GetValue<string>()));
        Assert.Null(resources[0]!["name"]);
        Assert.NotNull(resources[0]!["id"]);
        Assert.Null(resources[0]!["emails"]![0]!["type"]);
        Assert.Equal(4, counted.Json!["totalResults"]!.GetValue<int>());
        Assert.Empty(counted.Json["Resources"]!.AsArray());
    }

    [Theory]
    [InlineData("filter=userName%20eq", "invalidFilter")]
    [InlineData("filter=userName%20eq%20%22x%22)%20or%20(1%20eq%201", "invalidFilter")]
    [InlineData("filter=password%20eq%20%22x%22", "invalidFilter")]
    [InlineData("filter=active%20gt%20true", "invalidFilter")]
    [InlineData("sortBy=nickName", "invalidValue")]
    [InlineData("sortOrder=sideways", "invalidValue")]
    [InlineData("count=many", "invalidValue")]
    [InlineData("attributes=favouriteColour", "invalidValue")]
    public async Task A_bad_list_request_gets_the_scim_error(string query, string scimType)
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;

        var response = await scim.GetAsync("Users?" + query);

        Assert.Equal(400, response.Status);
        Assert.Equal(scimType, response.ScimType);
    }

    [Fact]
    public async Task Discovery_describes_what_the_service_supports()
    {
        var (server, scim, http) = await StartAsync();
        await using var _ = server;
        using var __ = http;

        var config = await scim.GetAsync("ServiceProviderConfig");
        var types = await scim.GetAsync("ResourceTypes");
        var schemas = await scim.GetAsync("Schemas");
        var user = await scim.GetAsync("Schemas/urn:ietf:params:scim:schemas:core:2.0:User");

        Assert.True(config.Json!["patch"]!["supported"]!.GetValue<bool>());
        Assert.False(config.Json["bulk"]!["supported"]!.GetValue<bool>());
        Assert.True(config.Json["etag"]!["supported"]!.GetValue<bool>());
        Assert.Equal("oauthbearertoken", config.Json["authenticationSchemes"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(2, types.Json!["totalResults"]!.GetValue<int>());
        Assert.Equal(3, schemas.Json!["totalResults"]!.GetValue<int>());
        var userName = user.Json!["attributes"]!.AsArray().Single(a => a!["name"]!.GetValue<string>() == "userName")!;
        Assert.Equal("server", userName["uniqueness"]!.GetValue<string>());
        Assert.False(userName["caseExact"]!.GetValue<bool>());
        Assert.Equal(404, (await scim.GetAsync("Bulk")).Status);
    }
}
