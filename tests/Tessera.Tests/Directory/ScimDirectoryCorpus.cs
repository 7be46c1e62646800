using System.Security.Cryptography;
using System.Text;
using Tessera.Hosting;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Directory;

/// <summary>
/// Fifteen users and three groups of organization "acme" (RFC 7644's own examples, the case rules, and values full
/// of LIKE wildcards and SQL quoting), plus organization "globex" holding look-alikes that no acme query may return.
/// One database per test class, on SQLite or, with TESSERA_TEST_POSTGRES, on PostgreSQL.
/// </summary>
public sealed class ScimDirectoryCorpus : IAsyncLifetime
{
    public const string Acme = "acme";
    public const string Globex = "globex";

    public static readonly Guid Admins = Id("group:admins");
    public static readonly Guid Sales = Id("group:sales");
    public static readonly Guid Empty = Id("group:empty");
    public static readonly Guid GlobexAdmins = Id("group:globex-admins");

    private const string Enterprise = "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"";

    /// <summary>userName, document, created, lastModified.</summary>
    public static readonly IReadOnlyList<(string UserName, string Json, string Created, string Modified)> Users =
    [
        ("bjensen", $$$"""
            {"userName":"bjensen","externalId":"ext-bjensen","displayName":"Babs Jensen","userType":"Employee","title":"Tour Guide",
             "name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,
             "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
             "ims":[{"value":"babs@foo.com","type":"xmpp"}],
             {{{Enterprise}}}:{"department":"Tour Operations","manager":{"value":"mgr-1"} } }
            """, "2010-01-01T00:00:00Z", "2011-05-13T04:42:34Z"),
        ("jsmith", $$$"""
            {"userName":"jsmith","externalId":"EXT-JSMITH","userType":"Employee","name":{"givenName":"John","familyName":"Smith"},
             "active":true,"emails":[{"value":"jsmith@example.org","type":"work"}],{{{Enterprise}}}:{"department":"Sales"}}
            """, "2010-02-01T00:00:00Z", "2011-05-13T04:42:35Z"),
        ("omalley", $$$"""
            {"userName":"omalley","displayName":"Ryan O'Malley","userType":"Contractor","title":"Engineer",
             "name":{"givenName":"Ryan","familyName":"O'Malley"},"active":false,
             "emails":[{"value":"ryan@omalley.example.com","type":"work"},{"value":"ryan@example.org","type":"home"}],
             {{{Enterprise}}}:{"department":"Engineering"}}
            """, "2010-03-01T00:00:00Z", "2012-01-01T00:00:00Z"),
        ("akira", $$$"""
            {"userName":"akira","externalId":"ext-akira","userType":"Employee","title":"Engineer","name":{"givenName":"Akira","familyName":"Tanaka"},
             "active":true,"emails":[{"value":"akira@example.com","type":"home"}],"ims":[{"value":"akira@bar.com","type":"xmpp"}],
             {{{Enterprise}}}:{"department":"Engineering"}}
            """, "2010-04-01T00:00:00Z", "2011-01-01T00:00:00Z"),
        ("chen", """
            {"userName":"chen","externalId":"ext-chen","userType":"Intern","title":"","name":{"givenName":"Li","familyName":"Chen"},
             "active":true,"emails":[{"value":"chen@EXAMPLE.COM","type":"work"}]}
            """, "2010-05-01T00:00:00Z", "2013-06-01T00:00:00Z"),
        ("100%off", """
            {"userName":"100%off","title":"50% Manager","name":{"familyName":"Percy"},"emails":[{"value":"sale@shop.test","type":"work"}]}
            """, "2010-06-01T00:00:00Z", "2011-05-13T04:42:34Z"),
        ("a_b", """{"userName":"a_b","title":"a_b","name":{"familyName":"Under_Score"}}""", "2010-07-01T00:00:00Z", "2010-07-01T00:00:00Z"),
        ("axb", """{"userName":"axb","title":"axb*?[x]"}""", "2010-08-01T00:00:00Z", "2010-08-01T00:00:00Z"),
        ("back\\slash", """{"userName":"back\\slash","title":"C:\\temp"}""", "2010-09-01T00:00:00Z", "2010-09-01T00:00:00Z"),
        ("o'reilly", """{"userName":"o'reilly","title":"' OR 1=1 --","name":{"familyName":"O'Reilly"}}""", "2010-10-01T00:00:00Z", "2010-10-01T00:00:00Z"),
        ("say\"hi\"", """{"userName":"say\"hi\"","title":"x\" or \"1\"=\"1"}""", "2010-11-01T00:00:00Z", "2010-11-01T00:00:00Z"),
        ("entra@contoso.com", $$$"""
            {"userName":"entra@contoso.com","externalId":"ext-entra","displayName":"Eve Entra","userType":"Employee",
             "name":{"givenName":"Eve","familyName":"Entra"},"active":"False",
             "emails":[{"value":"entra@contoso.com","type":"work","primary":true}],"phoneNumbers":[{"value":"+1 555 0100","type":"mobile"}],
             {{{Enterprise}}}:{"department":"Sales"}}
            """, "2010-12-01T00:00:00Z", "2014-01-01T00:00:00Z"),
        ("nomail", """{"userName":"nomail","externalId":""}""", "2011-01-01T00:00:00Z", "2011-01-01T00:00:00Z"),
        ("UPPER@Example.com", """
            {"userName":"UPPER@Example.com","externalId":"Ext-Upper","displayName":"Zoë Über","userType":"Employee",
             "emails":[{"value":"upper@example.com","type":"work"}]}
            """, "2011-02-01T00:00:00Z", "2011-02-01T00:00:00Z"),
        ("zed", """
            {"userName":"zed","externalId":"ext-zed","userType":"Employee","title":"Zookeeper","name":{"givenName":"Zed","familyName":"Zulu"},
             "emails":[{"value":"zed@other.example.com","type":"work"},{"value":"zed@example.com","type":"home"}]}
            """, "2011-03-01T00:00:00Z", "2011-03-01T00:00:00Z"),
    ];

    public static readonly IReadOnlyList<string> All = Users.Select(u => u.UserName).ToList();

    private TestDatabase? _database;

    public StorageOptions Storage => _database!.Storage;

    public bool IsPostgres => _database!.IsPostgres;

    /// <summary>The SCIM id of an acme user (of the globex look-alike with <paramref name="organizationId"/>).</summary>
    public static Guid Id(string userName, string organizationId = Acme) =>
        new(MD5.HashData(Encoding.UTF8.GetBytes(organizationId + "/" + userName)));

    public TesseraDbContext Open() => ScimDirectorySeed.Open(Storage);

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await using var db = Open();
        await Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.MigrateAsync(db.Database);
        await SeedAsync(db);
    }

    public static async Task SeedAsync(TesseraDbContext db)
    {
        foreach (var (userName, json, created, modified) in Users)
        {
            ScimDirectorySeed.AddUser(db, Acme, Id(userName), json, Time(created), Time(modified));
        }

        ScimDirectorySeed.AddGroup(db, Acme, Admins, "Admins", "ext-admins", Time("2012-01-01T00:00:00Z"), Id("bjensen"), Id("zed"));
        ScimDirectorySeed.AddGroup(db, Acme, Sales, "Sales", null, Time("2012-02-01T00:00:00Z"), Id("jsmith"), Id("entra@contoso.com"));
        ScimDirectorySeed.AddGroup(db, Acme, Empty, "Empty", "", Time("2012-03-01T00:00:00Z"));

        // Look-alikes in another organization: same userName, same email, same group name, and a name only globex has.
        ScimDirectorySeed.AddUser(db, Globex, Id("bjensen", Globex), $$$"""
            {"userName":"bjensen","userType":"Employee","title":"Tour Guide","active":true,
             "emails":[{"value":"bjensen@example.com","type":"work"}],{{{Enterprise}}}:{"department":"Engineering"}}
            """, Time("2010-01-01T00:00:00Z"), Time("2015-01-01T00:00:00Z"));
        ScimDirectorySeed.AddUser(db, Globex, Id("globex-only", Globex), """{"userName":"globex-only","title":"Engineer"}""",
            Time("2010-01-01T00:00:00Z"), Time("2015-01-01T00:00:00Z"));
        ScimDirectorySeed.AddGroup(db, Globex, GlobexAdmins, "Admins", "ext-admins", Time("2012-01-01T00:00:00Z"), Id("bjensen", Globex), Id("globex-only", Globex));
        await db.SaveChangesAsync();
    }

    public static DateTime Time(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime;

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
