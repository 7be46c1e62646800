using Microsoft.EntityFrameworkCore;
using Tessera.Directory;
using static Tessera.Tests.Directory.ScimDirectoryCorpus;

namespace Tessera.Tests.Directory;

/// <summary>SCIM filters over groups (members from the memberships), on the database of <see cref="ScimDirectoryCorpus"/>.</summary>
public sealed class ScimGroupQueryTests(ScimDirectoryCorpus corpus) : IClassFixture<ScimDirectoryCorpus>
{
    public static TheoryData<string, string[]> Filters() => new()
    {
        { "displayName eq \"admins\"", ["Admins"] },
        { "displayName sw \"S\"", ["Sales"] },
        { "displayName gt \"b\"", ["Empty", "Sales"] },
        { "externalId eq \"ext-admins\"", ["Admins"] },
        { "externalId eq \"EXT-ADMINS\"", [] },
        { "externalId pr", ["Admins"] },
        { "externalId ne \"ext-admins\"", ["Sales", "Empty"] },
        { $"id eq \"{Sales}\"", ["Sales"] },
        { "id eq \"42\"", [] },
        { $"members eq \"{Id("bjensen")}\"", ["Admins"] },
        { $"members.value eq \"{Id("jsmith")}\"", ["Sales"] },
        { $"members[value eq \"{Id("zed")}\" and type eq \"User\"]", ["Admins"] },
        { $"members.value eq \"{Id("bjensen", Globex)}\"", [] },
        { "members.display co \"jensen\"", ["Admins"] },
        { "members pr", ["Admins", "Sales"] },
        { "not (members pr)", ["Empty"] },
        { "meta.created ge \"2012-02-01T00:00:00Z\"", ["Sales", "Empty"] },
        { "meta.resourceType eq \"Group\"", ["Admins", "Sales", "Empty"] },
        { "urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq \"Empty\"", ["Empty"] },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task A_filter_selects_exactly_these_groups(string filter, string[] expected)
    {
        await using var db = corpus.Open();

        var groups = await ScimGroupQuery.Groups(db, Acme, ScimFilterParser.Parse(filter)).ToListAsync();

        Assert.All(groups, g => Assert.Equal(Acme, g.OrganizationId));
        Assert.Equal(expected.Order(StringComparer.Ordinal), groups.Select(g => g.DisplayName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("userName eq \"x\"", "userName")]
    [InlineData("members.nosuch eq \"x\"", "members.nosuch")]
    [InlineData("members gt \"x\"", "members.value")]
    [InlineData("displayName[value eq \"x\"]", "displayName")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x\"", "userName")]
    public async Task A_filter_that_cannot_apply_to_groups_is_refused_naming_the_attribute(string filter, string attribute)
    {
        await using var db = corpus.Open();

        var error = Assert.Throws<ScimFilterException>(() => ScimGroupQuery.Groups(db, Acme, ScimFilterParser.Parse(filter)).ToQueryString());

        Assert.Contains(attribute, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_group_of_the_same_name_in_another_organization_is_never_listed()
    {
        await using var db = corpus.Open();

        var acme = await ScimGroupQuery.Groups(db, Acme, ScimFilterParser.Parse("displayName eq \"Admins\" or members.display pr or members pr")).Select(g => g.Id).ToListAsync();

        Assert.Equal(new[] { Admins, Sales }.Order(), acme.Order());
        Assert.Equal([GlobexAdmins], await ScimGroupQuery.Groups(db, Globex, ScimFilterParser.Parse("displayName eq \"Admins\"")).Select(g => g.Id).ToListAsync());
    }

    [Fact]
    public async Task Groups_are_listed_by_name_unless_asked_otherwise()
    {
        await using var db = corpus.Open();
        var byCreation = ScimSort.Parse(ScimSchemas.GroupType, "meta.created", "descending");
        Assert.Null(byCreation.Error);

        var byName = await ScimGroupQuery.Order(ScimGroupQuery.Groups(db, Acme, null), null).Select(g => g.DisplayName).ToListAsync();
        var newest = await ScimGroupQuery.Order(ScimGroupQuery.Groups(db, Acme, null), byCreation.Sort).Select(g => g.DisplayName).ToListAsync();

        Assert.Equal(["Admins", "Empty", "Sales"], byName);
        Assert.Equal(["Empty", "Sales", "Admins"], newest);
        Assert.NotNull(ScimSort.Parse(ScimSchemas.GroupType, "userName", null).Error);
        Assert.NotNull(ScimSort.Parse(ScimSchemas.GroupType, "members", null).Error);
    }
}
