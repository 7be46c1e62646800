using System.Text.Json.Nodes;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Directory;

public sealed class ScimGroupsTests
{
    private static JsonObject Group(string displayName, params string[] schemas) => new()
    {
        ["schemas"] = new JsonArray([.. schemas.Select(s => JsonValue.Create(s))]),
        ["displayName"] = displayName,
        ["externalId"] = "8f0c2d7e-5a41-4c61-9b0e-0f6a3c1d2e4b",
    };

    [Fact]
    public async Task A_group_listing_entra_ids_adscim_schema_is_created_and_other_unknown_schemas_are_still_refused()
    {
        await using var server = await TesseraTestServer.StartAsync(options => ScimClient.Configure(options));
        using var http = server.CreateClient();
        var scim = new ScimClient(http, TestConfiguration.Organization, ScimClient.StMarysToken);

        var entra = await scim.PostAsync("Groups", Group("Radiology", "urn:ietf:params:scim:schemas:core:2.0:Group",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"));
        var unknown = await scim.PostAsync("Groups", Group("Cardiology", "urn:ietf:params:scim:schemas:core:2.0:Group", "urn:example:evil:Group"));

        Assert.Equal(201, entra.Status);
        Assert.Equal(["urn:ietf:params:scim:schemas:core:2.0:Group"], entra.Json!["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("8f0c2d7e-5a41-4c61-9b0e-0f6a3c1d2e4b", entra.Json["externalId"]!.GetValue<string>());
        Assert.Equal(400, unknown.Status);
        Assert.Equal("invalidSyntax", unknown.ScimType);
    }
}
