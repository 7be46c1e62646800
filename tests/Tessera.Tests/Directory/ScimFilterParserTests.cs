using Tessera.Directory;
using static Tessera.Directory.ScimFilter;

namespace Tessera.Tests.Directory;

/// <summary>
/// The RFC 7644 §3.4.2.2 filter grammar: the RFC's own examples, precedence, a print/parse round trip over
/// generated filters, and a table of hostile filters that must be refused as invalidFilter.
/// </summary>
public sealed class ScimFilterParserTests
{
    private static ScimAttributePath A(string name, string? sub = null, string? schema = null) => new(schema, name, sub);

    private static Comparison Eq(string name, string value) => new(A(name), ScimOperator.Eq, ScimValue.String(value));

    public static TheoryData<string> RfcExamples() =>
    [
        "userName eq \"bjensen\"",
        "name.familyName co \"O'Malley\"",
        "userName sw \"J\"",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
        "title pr",
        "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
        "meta.lastModified ge \"2011-05-13T04:42:34Z\"",
        "meta.lastModified lt \"2011-05-13T04:42:34Z\"",
        "meta.lastModified le \"2011-05-13T04:42:34Z\"",
        "title pr and userType eq \"Employee\"",
        "title pr or userType eq \"Intern\"",
        "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
        "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
        "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")",
        "userType eq \"Employee\" and (emails.type eq \"work\")",
        "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
        "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
    ];

    [Theory]
    [MemberData(nameof(RfcExamples))]
    public void Every_example_of_the_RFC_parses_and_prints_back_to_the_same_tree(string filter)
    {
        var tree = ScimFilterParser.Parse(filter);

        Assert.Equal(tree, ScimFilterParser.Parse(tree.ToString()));
    }

    [Fact]
    public void And_binds_tighter_than_or_and_parentheses_override_it()
    {
        var a = Eq("a", "1");
        var b = Eq("b", "2");
        var c = Eq("c", "3");

        Assert.Equal(new Logical(false, a, new Logical(true, b, c)), ScimFilterParser.Parse("a eq \"1\" or b eq \"2\" and c eq \"3\""));
        Assert.Equal(new Logical(false, new Logical(true, a, b), c), ScimFilterParser.Parse("a eq \"1\" and b eq \"2\" or c eq \"3\""));
        Assert.Equal(new Logical(true, new Logical(false, a, b), c), ScimFilterParser.Parse("(a eq \"1\" or b eq \"2\") and c eq \"3\""));
        Assert.Equal(new Logical(true, new Logical(true, a, b), c), ScimFilterParser.Parse("a eq \"1\" and b eq \"2\" and c eq \"3\""));
    }

    [Fact]
    public void Keywords_and_operators_are_case_insensitive_values_and_paths_are_read_exactly()
    {
        var tree = ScimFilterParser.Parse("userName EQ \"Bjensen\" AND NOT (active Eq false) Or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber gt 7.5e1");

        Assert.Equal(
            new Logical(false,
                new Logical(true, Eq("userName", "Bjensen"), new Not(new Comparison(A("active"), ScimOperator.Eq, ScimValue.False))),
                new Comparison(A("employeeNumber", schema: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"), ScimOperator.Gt, ScimValue.Of(75m))),
            tree);
    }

    [Fact]
    public void A_value_path_holds_its_own_filter()
    {
        var tree = ScimFilterParser.Parse("members[value eq \"2819c223\"]");

        Assert.Equal(new ValuePath(A("members"), Eq("value", "2819c223")), tree);
    }

    [Fact]
    public void Strings_are_JSON_strings_with_their_escapes()
    {
        var tree = (Comparison)ScimFilterParser.Parse("displayName eq \"O\\\"Malley \\u00e9\\\\\"");

        Assert.Equal("O\"Malley é\\", tree.Value!.Text);
        Assert.Equal(tree, ScimFilterParser.Parse(tree.ToString()));
    }

    [Fact]
    public void Generated_filters_print_and_parse_back_to_the_same_tree()
    {
        var random = new Random(7644);
        for (var i = 0; i < 2_000; i++)
        {
            var tree = Generate(random, depth: 0);

            var printed = tree.ToString();
            Assert.Equal(tree, ScimFilterParser.Parse(printed));
        }
    }

    private static readonly string[] Names = ["userName", "active", "emails", "name", "title", "externalId", "meta"];
    private static readonly string?[] Subs = [null, null, "value", "type", "familyName", "lastModified"];

    private static ScimFilter Generate(Random random, int depth, bool insideValuePath = false)
    {
        var pick = depth >= 4 ? 0 : random.Next(insideValuePath ? 5 : 6);
        return pick switch
        {
            0 or 1 => Leaf(random),
            2 => new Logical(true, Generate(random, depth + 1, insideValuePath), Generate(random, depth + 1, insideValuePath)),
            3 => new Logical(false, Generate(random, depth + 1, insideValuePath), Generate(random, depth + 1, insideValuePath)),
            4 => new Not(Generate(random, depth + 1, insideValuePath)),
            _ => new ValuePath(A(Names[random.Next(Names.Length)]), Generate(random, depth + 1, insideValuePath: true)),
        };
    }

    private static Comparison Leaf(Random random)
    {
        var path = A(Names[random.Next(Names.Length)], Subs[random.Next(Subs.Length)], random.Next(8) == 0 ? "urn:ietf:params:scim:schemas:core:2.0:User" : null);
        var op = (ScimOperator)random.Next(10);
        ScimValue? value = op == ScimOperator.Pr ? null : random.Next(5) switch
        {
            0 => ScimValue.Of(Math.Round((decimal)(random.NextDouble() * 2000 - 1000), random.Next(4))),
            1 => ScimValue.True,
            2 => ScimValue.Null,
            _ => ScimValue.String(new string(Enumerable.Range(0, random.Next(12)).Select(_ => "ab\" \\é()[]and or,'"[random.Next(18)]).ToArray())),
        };
        return new Comparison(path, op, value);
    }

    public static TheoryData<string, string> Hostile() => new()
    {
        { "SQL after a value", "userName eq \"x\" or 1=1" },
        { "SQL in place of a value", "userName eq x'; DROP TABLE users; --" },
        { "comment", "userName eq \"x\" -- and active eq true" },
        { "unknown operator", "userName like \"bj%\"" },
        { "no value", "userName eq" },
        { "value after pr", "title pr \"x\"" },
        { "single-quoted string", "userName eq 'bjensen'" },
        { "unterminated string", "userName eq \"bjensen" },
        { "bad escape", "userName eq \"\\x41\"" },
        { "raw control character in a string", "userName eq \"a\u0001b\"" },
        { "number with a leading zero", "age gt 012" },
        { "hex number", "age gt 0x10" },
        { "unbalanced opening parenthesis", "(userName eq \"a\"" },
        { "unbalanced closing parenthesis", "userName eq \"a\")" },
        { "not without parentheses", "not userName eq \"a\"" },
        { "dangling and", "userName eq \"a\" and" },
        { "empty", "" },
        { "spaces only", "   " },
        { "nested value filters", "emails[type[value eq \"x\"] eq \"work\"]" },
        { "value filter after a sub-attribute", "name.familyName[value eq \"x\"]" },
        { "unterminated value filter", "emails[type eq \"work\"" },
        { "attribute starting with a digit", "1userName eq \"a\"" },
        { "three-part attribute", "name.familyName.x eq \"a\"" },
        { "qualified by a non-URN", "evil:userName eq \"a\"" },
        { "parentheses nested 1,000 deep", new string('(', 1000) + "userName eq \"a\"" + new string(')', 1000) },
        { "not nested 40 deep", string.Concat(Enumerable.Repeat("not (", 40)) + "title pr" + new string(')', 40) },
        { "200 terms", string.Join(" or ", Enumerable.Repeat("title pr", 200)) },
        { "100 KB filter", "userName eq \"" + new string('a', 100_000) + "\"" },
        { "tab instead of a space", "userName\teq \"a\"" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_filter_is_refused_as_invalid(string attack, string filter)
    {
        var refused = Assert.Throws<ScimFilterException>(() => ScimFilterParser.Parse(filter));

        Assert.False(string.IsNullOrEmpty(refused.Message), attack);
        Assert.True(refused.Message.Length < 300, "the message does not echo the filter back");
    }

    [Theory]
    [InlineData("members", "members", null, null)]
    [InlineData("name.familyName", "name", null, null)]
    [InlineData("emails[type eq \"work\"].value", "emails", "type eq \"work\"", "value")]
    [InlineData("members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", "members", "value eq \"2819c223-7f76-453a-919d-413861904646\"", null)]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "manager", null, null)]
    public void Patch_paths_name_an_attribute_an_optional_value_filter_and_sub_attribute(string path, string attribute, string? filter, string? sub)
    {
        var parsed = ScimFilterParser.ParsePath(path);

        Assert.Equal(attribute, parsed.Path.Name);
        Assert.Equal(filter, parsed.Filter?.ToString());
        Assert.Equal(sub, parsed.SubAttribute);
    }

    [Theory]
    [InlineData("emails[type eq \"work\"]value")]
    [InlineData("emails[type eq \"work\"].value.x")]
    [InlineData("emails[")]
    [InlineData("")]
    public void A_bad_patch_path_is_refused(string path)
    {
        Assert.Throws<ScimFilterException>(() => ScimFilterParser.ParsePath(path));
    }
}
