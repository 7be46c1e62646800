using Microsoft.EntityFrameworkCore;
using Tessera.Directory;
using static Tessera.Tests.Directory.ScimDirectoryCorpus;

namespace Tessera.Tests.Directory;

/// <summary>
/// SCIM filters over users, translated to SQL and run on the database (SQLite, or PostgreSQL with
/// TESSERA_TEST_POSTGRES): each row names the exact users it must select from <see cref="ScimDirectoryCorpus"/>.
/// </summary>
public sealed class ScimUserQueryTests(ScimDirectoryCorpus corpus) : IClassFixture<ScimDirectoryCorpus>
{
    private static string[] AllBut(params string[] excluded) => All.Except(excluded).ToArray();

    public static TheoryData<string, string[]> Filters() => new()
    {
        // RFC 7644 §3.4.2.2 examples
        { "userName eq \"bjensen\"", ["bjensen"] },
        { "name.familyName co \"O'Malley\"", ["omalley"] },
        { "userName sw \"J\"", ["jsmith"] },
        { "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"", ["jsmith"] },
        { "title pr", ["bjensen", "omalley", "akira", "100%off", "a_b", "axb", "back\\slash", "o'reilly", "say\"hi\"", "zed"] },
        { "meta.lastModified gt \"2011-05-13T04:42:34Z\"", ["jsmith", "omalley", "chen", "entra@contoso.com"] },
        { "meta.lastModified ge \"2011-05-13T04:42:34Z\"", ["bjensen", "jsmith", "omalley", "chen", "100%off", "entra@contoso.com"] },
        { "meta.lastModified lt \"2011-05-13T04:42:34Z\"", ["akira", "a_b", "axb", "back\\slash", "o'reilly", "say\"hi\"", "nomail", "UPPER@Example.com", "zed"] },
        { "meta.lastModified le \"2011-05-13T04:42:34Z\"", ["bjensen", "akira", "100%off", "a_b", "axb", "back\\slash", "o'reilly", "say\"hi\"", "nomail", "UPPER@Example.com", "zed"] },
        { "title pr and userType eq \"Employee\"", ["bjensen", "akira", "zed"] },
        { "title pr or userType eq \"Intern\"", ["bjensen", "omalley", "akira", "chen", "100%off", "a_b", "axb", "back\\slash", "o'reilly", "say\"hi\"", "zed"] },
        { "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")", ["bjensen", "jsmith", "akira", "UPPER@Example.com", "zed"] },
        { "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")", ["100%off", "a_b", "axb", "back\\slash", "o'reilly", "say\"hi\"", "nomail"] },
        { "userType eq \"Employee\" and (emails.type eq \"work\")", ["bjensen", "jsmith", "entra@contoso.com", "UPPER@Example.com", "zed"] },
        { "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]", ["bjensen", "UPPER@Example.com"] },
        { "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]", ["bjensen", "chen", "UPPER@Example.com"] },

        // One value must satisfy the whole value filter; without brackets, different values may.
        { "emails.type eq \"work\" and emails.value co \"@example.com\"", ["bjensen", "chen", "UPPER@Example.com", "zed"] },
        { "emails[not (type eq \"work\")]", ["bjensen", "omalley", "akira", "zed"] },
        { "emails[type eq \"home\" or value ew \".org\"]", ["bjensen", "jsmith", "omalley", "akira", "zed"] },
        { "emails[primary eq \"True\"]", ["bjensen", "entra@contoso.com"] },
        { "emails.primary eq true", ["bjensen", "entra@contoso.com"] },
        { "ims[type eq \"xmpp\"] and not (ims.value co \"foo\")", ["akira"] },

        // Case rules: userName, emails, titles compare case-insensitively; externalId is case-exact.
        { "userName eq \"BJENSEN\"", ["bjensen"] },
        { "userName eq \"upper@example.com\"", ["UPPER@Example.com"] },
        { "emails eq \"CHEN@example.com\"", ["chen"] },
        { "displayName eq \"ZOË ÜBER\"", ["UPPER@Example.com"] },
        { "externalId eq \"ext-jsmith\"", [] },
        { "externalId eq \"EXT-JSMITH\"", ["jsmith"] },
        { "externalId sw \"Ext-\"", ["UPPER@Example.com"] },
        { "externalId pr", ["bjensen", "jsmith", "akira", "chen", "entra@contoso.com", "UPPER@Example.com", "zed"] },

        // gt/ge/lt/le compare byte-wise on every provider.
        { "externalId lt \"ext\"", ["jsmith", "nomail", "UPPER@Example.com"] },
        { "userName lt \"a_\"", ["100%off"] },
        { "userName lt \"b\"", ["100%off", "a_b", "akira", "axb"] },
        { "displayName gt \"r\"", ["omalley", "UPPER@Example.com"] },

        // Dates: offsets are normalized; creation time too.
        { "meta.lastModified eq \"2011-05-13T06:42:34+02:00\"", ["bjensen", "100%off"] },
        { "meta.created lt \"2010-03-01T00:00:00Z\"", ["bjensen", "jsmith"] },

        // Booleans: JSON literals, and Entra ID's strings.
        { "active eq true", AllBut("omalley", "entra@contoso.com") },
        { "active eq false", ["omalley", "entra@contoso.com"] },
        { "active eq \"False\"", ["omalley", "entra@contoso.com"] },
        { "active ne true", ["omalley", "entra@contoso.com"] },

        // ne and not include users without the attribute.
        { "title ne \"Engineer\"", AllBut("omalley", "akira") },
        { "not (title eq \"Engineer\")", AllBut("omalley", "akira") },
        { "not (title pr)", ["jsmith", "chen", "entra@contoso.com", "nomail", "UPPER@Example.com"] },
        { "title eq null", ["jsmith", "chen", "entra@contoso.com", "nomail", "UPPER@Example.com"] },
        { "emails ne \"bjensen@example.com\"", AllBut("bjensen") },

        // Complex attributes: pr looks at every sub-attribute; the enterprise extension with or without its URN.
        { "name pr", ["bjensen", "jsmith", "omalley", "akira", "chen", "100%off", "a_b", "o'reilly", "entra@contoso.com", "zed"] },
        { "phoneNumbers pr", ["entra@contoso.com"] },
        { "name.familyName sw \"o'\"", ["omalley", "o'reilly"] },
        { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"engineering\"", ["omalley", "akira"] },
        { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"MGR-1\"", ["bjensen"] },
        { "department eq \"Sales\"", ["jsmith", "entra@contoso.com"] },
        { "meta.resourceType eq \"User\"", All.ToArray() },
        { "meta.resourceType eq \"Group\"", [] },

        // Groups from the memberships.
        { $"groups eq \"{Admins}\"", ["bjensen", "zed"] },
        { $"groups.value eq \"{Sales.ToString().ToUpperInvariant()}\"", ["jsmith", "entra@contoso.com"] },
        { "groups.display eq \"admins\"", ["bjensen", "zed"] },
        { "groups[display sw \"Sa\" and type eq \"direct\"]", ["jsmith", "entra@contoso.com"] },
        { "not (groups pr)", AllBut("bjensen", "zed", "jsmith", "entra@contoso.com") },

        // Ids: a well-formed one matches its user; anything else matches nobody.
        { $"id eq \"{Id("zed")}\"", ["zed"] },
        { "id eq \"not-a-guid\"", [] },
        { $"id ne \"{Id("zed")}\"", AllBut("zed") },

        // Hostile values are data: quotes, SQL, and LIKE's wildcards and escape match literally.
        { "title eq \"' OR 1=1 --\"", ["o'reilly"] },
        { "userName eq \"x' OR '1'='1\"", [] },
        { "title co \"' OR 1=1\"", ["o'reilly"] },
        { "title co \"%\"", ["100%off"] },
        { "userName sw \"%\"", [] },
        { "userName sw \"a_\"", ["a_b"] },
        { "title co \"_\"", ["a_b"] },
        { "name.familyName ew \"_score\"", ["a_b"] },
        { "userName co \"\\\\\"", ["back\\slash"] },
        { "title ew \"\\\\temp\"", ["back\\slash"] },
        { "title sw \"c:\\\\\"", ["back\\slash"] },
        { "title co \"\\\"\"", ["say\"hi\""] },
        { "userName eq \"say\\\"hi\\\"\"", ["say\"hi\""] },
        { "userName co \"[a]\"", [] },
        { "title sw \"a*\"", [] },
        { "title sw \"axb*?[\"", ["axb"] },
        { "title ew \"?[x]\"", ["axb"] },
        { "title ew \"[x]\"", ["axb"] },
        { "title ew \"x\"", [] },
        { "title co \"*\"", ["axb"] },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task A_filter_selects_exactly_these_users(string filter, string[] expected)
    {
        await using var db = corpus.Open();

        var users = await ScimUserQuery.Users(db, Acme, ScimFilterParser.Parse(filter)).ToListAsync();

        Assert.All(users, u => Assert.Equal(Acme, u.OrganizationId));
        Assert.Equal(expected.Order(StringComparer.Ordinal), users.Select(u => u.UserName).Order(StringComparer.Ordinal));
    }

    public static TheoryData<string, string> InvalidFilters() => new()
    {
        { "nosuch eq \"x\"", "nosuch" },
        { "name eq \"x\"", "name" },
        { "name.nosuch eq \"x\"", "name.nosuch" },
        { "addresses eq \"x\"", "addresses" },
        { "x509Certificates eq \"x\"", "x509Certificates" },
        { "x509Certificates.value pr", "x509Certificates" },
        { "active gt true", "active" },
        { "active co \"t\"", "active" },
        { "active eq \"yes\"", "active" },
        { "active eq 1", "active" },
        { "meta.lastModified gt \"yesterday\"", "meta.lastModified" },
        { "meta.lastModified co \"2011\"", "meta.lastModified" },
        { "meta.created eq true", "meta.created" },
        { "meta.version eq \"1\"", "meta.version" },
        { "meta eq \"x\"", "meta" },
        { "userName eq true", "userName" },
        { "userName gt null", "userName" },
        { "id sw \"a\"", "id" },
        { "emails[nosuch eq \"x\"]", "nosuch" },
        { "emails[type eq \"work\" and nosuch pr]", "nosuch" },
        { "userName[value eq \"x\"]", "userName" },
        { "urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq \"x\"", "displayName" },
        { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq \"x\"", "userName" },
        { "members pr", "members" },
    };

    [Theory]
    [MemberData(nameof(InvalidFilters))]
    public async Task A_filter_that_cannot_apply_to_users_is_refused_naming_the_attribute(string filter, string attribute)
    {
        await using var db = corpus.Open();

        var error = Assert.Throws<ScimFilterException>(() => ScimUserQuery.Users(db, Acme, ScimFilterParser.Parse(filter)).ToQueryString());

        Assert.Contains(attribute, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("userName eq \"bjensen\"")]
    [InlineData("emails.value eq \"bjensen@example.com\"")]
    [InlineData("title eq \"Engineer\"")]
    [InlineData("groups.display eq \"Admins\"")]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Engineering\"")]
    [InlineData("emails[type eq \"work\" and value eq \"bjensen@example.com\"]")]
    [InlineData("not (title eq \"x\")")]
    public async Task No_filter_reaches_another_organizations_users(string filter)
    {
        await using var db = corpus.Open();
        var parsed = ScimFilterParser.Parse(filter);

        var acme = await ScimUserQuery.Users(db, Acme, parsed).Select(u => u.UserId).ToListAsync();
        var globex = await ScimUserQuery.Users(db, Globex, parsed).Select(u => u.UserId).ToListAsync();

        // Every filter here selects users in both organizations, so what is missing from each answer was filtered out.
        Assert.NotEmpty(acme);
        Assert.NotEmpty(globex);
        Assert.DoesNotContain(Id("bjensen", Globex), acme);
        Assert.DoesNotContain(Id("globex-only", Globex), acme);
        Assert.DoesNotContain(Id("bjensen"), globex);
        Assert.Empty(await ScimUserQuery.Users(db, Acme, ScimFilterParser.Parse("userName eq \"globex-only\"")).ToListAsync());
        Assert.Empty(await ScimUserQuery.Users(db, "nobody", parsed).ToListAsync());
    }

    [Fact]
    public async Task Values_reach_the_database_as_parameters_never_as_sql_text()
    {
        await using var db = corpus.Open();

        var query = ScimUserQuery.Users(db, Acme, ScimFilterParser.Parse(
            "title eq \"' OR 1=1 --\" or emails[value co \"%_x\"] or userName sw \"zz'\" or name.familyName gt \"q'q\"")).ToQueryString();

        // ToQueryString lists the parameters' values first (".param set" on SQLite, "-- @p=" comments on PostgreSQL).
        var lines = query.Split('\n');
        static bool IsParameter(string line) => line.StartsWith(".param", StringComparison.Ordinal) || line.StartsWith("--", StringComparison.Ordinal);
        var sql = string.Join('\n', lines.Where(line => !IsParameter(line)));
        var parameters = string.Join('\n', lines.Where(IsParameter));
        Assert.Contains("SELECT", sql, StringComparison.Ordinal);
        Assert.Contains("1=1", parameters, StringComparison.Ordinal);
        // PostgreSQL's LIKE pattern carries the value with its wildcards escaped (\%\_x).
        Assert.True(parameters.Replace("\\", "", StringComparison.Ordinal).Contains("%_x", StringComparison.Ordinal), parameters);

        Assert.DoesNotContain("1=1", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("%_x", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("zz'", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("q'q", sql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Value_conditions_are_id_lookups_in_the_value_table()
    {
        await using var db = corpus.Open();

        var sql = ScimUserQuery.Users(db, Acme, ScimFilterParser.Parse("emails.value eq \"bjensen@example.com\"")).ToQueryString();

        Assert.Matches(@"""UserId"" IN \(\s*SELECT ""?\w+""?\.""UserId""\s+FROM ""?directory_user_values""?", sql);
    }

    [Fact]
    public async Task Ordering_comparisons_are_byte_wise_on_postgresql_whatever_the_collation()
    {
        await using var db = corpus.Open();

        var sql = ScimUserQuery.Users(db, Acme, ScimFilterParser.Parse("userName gt \"m\"")).ToQueryString();

        Assert.Equal(corpus.IsPostgres, sql.Contains("COLLATE \"C\"", StringComparison.Ordinal));
    }

    public static TheoryData<string?, string?, string[]> Sorts() => new()
    {
        { null, null, ["100%off", "a_b", "akira", "axb", "back\\slash", "bjensen", "chen", "entra@contoso.com", "jsmith", "nomail", "o'reilly", "omalley", "say\"hi\"", "UPPER@Example.com", "zed"] },
        { "userName", "descending", ["zed", "UPPER@Example.com", "say\"hi\"", "omalley", "o'reilly", "nomail", "jsmith", "entra@contoso.com", "chen", "bjensen", "back\\slash", "axb", "akira", "a_b", "100%off"] },
        { "urn:ietf:params:scim:schemas:core:2.0:User:USERNAME", "Ascending", ["100%off", "a_b", "akira", "axb", "back\\slash", "bjensen", "chen", "entra@contoso.com", "jsmith", "nomail", "o'reilly", "omalley", "say\"hi\"", "UPPER@Example.com", "zed"] },
        { "meta.lastModified", "descending", ["entra@contoso.com", "chen", "omalley", "jsmith", "bjensen", "100%off", "zed", "UPPER@Example.com", "akira", "nomail", "say\"hi\"", "o'reilly", "back\\slash", "axb", "a_b"] },
        { "meta.created", null, ["bjensen", "jsmith", "omalley", "akira", "chen", "100%off", "a_b", "axb", "back\\slash", "o'reilly", "say\"hi\"", "entra@contoso.com", "nomail", "UPPER@Example.com", "zed"] },
    };

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task Users_are_listed_in_the_order_asked_for(string? sortBy, string? sortOrder, string[] expected)
    {
        await using var db = corpus.Open();
        var sort = ScimSort.Parse(ScimSchemas.UserType, sortBy, sortOrder);
        Assert.Null(sort.Error);

        var users = await ScimUserQuery.Order(ScimUserQuery.Users(db, Acme, null), sort.Sort).ToListAsync();
        var few = await ScimUserQuery.Order(ScimUserQuery.Users(db, Acme, null), sort.Sort, totalResults: All.Count).ToListAsync();
        Assert.Equal(users.Select(u => u.UserId), few.Select(u => u.UserId));

        // Equal timestamps (bjensen and 100%off) fall back to the id, in the same direction.
        var tied = new[] { "bjensen", "100%off" }.OrderBy(n => Id(n).ToString(), StringComparer.Ordinal).ToArray();
        if (sortBy == "meta.lastModified")
        {
            expected = [.. expected[..4], .. tied.Reverse(), .. expected[6..]];
        }

        Assert.Equal(expected, users.Select(u => u.UserName));
    }

    [Fact]
    public async Task Missing_values_sort_last_in_both_directions_and_ids_break_ties()
    {
        await using var db = corpus.Open();
        var withoutExternalId = new[] { "omalley", "100%off", "a_b", "axb", "back\\slash", "o'reilly", "say\"hi\"" };

        var ascending = await ScimUserQuery.Order(ScimUserQuery.Users(db, Acme, null), new ScimSort("externalId", false)).Select(u => u.UserName).ToListAsync();
        var descending = await ScimUserQuery.Order(ScimUserQuery.Users(db, Acme, null), new ScimSort("externalId", true)).Select(u => u.UserName).ToListAsync();

        string[] present = ["nomail", "jsmith", "UPPER@Example.com", "akira", "bjensen", "chen", "entra@contoso.com", "zed"];
        var missing = withoutExternalId.OrderBy(n => Id(n).ToString(), StringComparer.Ordinal).ToArray();
        Assert.Equal([.. present, .. missing], ascending);
        Assert.Equal([.. present.Reverse(), .. missing.Reverse()], descending);

        var byId = await ScimUserQuery.Order(ScimUserQuery.Users(db, Acme, null), new ScimSort("id", false)).Select(u => u.UserId).ToListAsync();
        Assert.Equal(byId.OrderBy(i => i.ToString(), StringComparer.Ordinal), byId);
    }

    [Theory]
    [InlineData("name.familyName", null)]
    [InlineData("emails", null)]
    [InlineData("nosuch", null)]
    [InlineData("emails[type eq \"work\"]", null)]
    [InlineData("userName", "up")]
    public void An_unsupported_sort_is_an_error_value_listing_what_is_supported(string sortBy, string? sortOrder)
    {
        var sort = ScimSort.Parse(ScimSchemas.UserType, sortBy, sortOrder);

        Assert.Null(sort.Sort);
        Assert.NotNull(sort.Error);
    }
}
