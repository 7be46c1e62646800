using System.Text.Json.Nodes;
using Tessera.Storage;
using Tessera.Tests.Directory;

namespace Tessera.Scim.Benchmarks;

/// <summary>
/// A realistic directory of one organization: users with userName, name, work and home emails, an Okta-style
/// externalId, active (nine in ten), an enterprise department, spread over three years of changes; groups of
/// about a thousand members each. Deterministic, so every run and provider holds the same data.
/// </summary>
internal sealed class DirectoryGenerator(int users, int groups)
{
    public const string Organization = "bench-org";
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    private static readonly string[] Syllables = ["ka", "lo", "mi", "ra", "son", "ber", "ten", "vi", "mar", "el", "an", "dre", "go", "sha", "wen", "tor", "li", "na", "ko", "ste"];
    private static readonly string[] Departments = ["Engineering", "Sales", "Marketing", "Finance", "Legal", "Support", "Operations", "Research", "HR", "IT"];
    private static readonly DateTime Start = new(2022, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public int Users => users;

    public static Guid UserId(int i) => new(i, 0x5c, 0x1d, [0x80, 0, 0, 0, 0, 0, 0, 1]);

    public static Guid GroupId(int g) => new(g, 0x5c, 0x1d, [0x80, 0, 0, 0, 0, 0, 0, 2]);

    public static string Given(int i) => Capital(Syllables[i % 20] + Syllables[i / 20 % 20]);

    public static string Family(int i) => Capital(Syllables[i * 7 % 20] + Syllables[i / 7 % 20] + Syllables[i / 140 % 20]);

    public static string UserName(int i) => $"{Given(i).ToLowerInvariant()}.{Family(i).ToLowerInvariant()}{i}@example.com";

    public static string ExternalId(int i) => "00u" + (0x1F00000 + i * 7919L).ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    public static DateTime Created(int i) => Start.AddMinutes(i * 15.0);

    /// <summary>Most users were last changed long ago; about one in a hundred in the last week.</summary>
    public DateTime Modified(int i) => i % 100 == 0 ? LastWeek.AddMinutes(i % 10_000) : Created(i).AddDays(i % 30);

    public DateTime LastWeek => Created(users).AddDays(40);

    public static JsonObject Document(int i) => new()
    {
        ["userName"] = UserName(i),
        ["externalId"] = ExternalId(i),
        ["displayName"] = Given(i) + " " + Family(i),
        ["name"] = new JsonObject { ["givenName"] = Given(i), ["familyName"] = Family(i), ["formatted"] = Given(i) + " " + Family(i) },
        ["active"] = i % 10 != 0,
        ["emails"] = new JsonArray(
            new JsonObject { ["value"] = UserName(i), ["type"] = "work", ["primary"] = true },
            new JsonObject { ["value"] = $"{Given(i).ToLowerInvariant()}{i}@home.example", ["type"] = "home" }),
        ["title"] = i % 3 == 0 ? "Engineer" : "Analyst",
        [Enterprise] = new JsonObject { ["department"] = Departments[i % Departments.Length], ["employeeNumber"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };

    /// <summary>Builds the rows as the tests' seeding does, then writes them in bulk (EF's change tracking would take minutes).</summary>
    public async Task SeedAsync(Func<TesseraDbContext> open)
    {
        const int Batch = 10_000;
        for (var first = 0; first < users; first += Batch)
        {
            await using var db = open();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = first; i < Math.Min(users, first + Batch); i++)
            {
                ScimDirectorySeed.AddUser(db, Organization, UserId(i), Document(i).ToJsonString(), Created(i), Modified(i));
            }

            await BulkWriter.WriteAsync(db);
        }

        await using (var db = open())
        {
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            var members = new List<Guid>[groups];
            for (var g = 0; g < groups; g++)
            {
                members[g] = [];
            }

            // Each user is in two groups: one by its number, one by its number's seventh.
            for (var i = 0; i < users; i++)
            {
                members[i % groups].Add(UserId(i));
                if ((i / 7 + 1) % groups != i % groups)
                {
                    members[(i / 7 + 1) % groups].Add(UserId(i));
                }
            }

            for (var g = 0; g < groups; g++)
            {
                ScimDirectorySeed.AddGroup(db, Organization, GroupId(g), $"Group {g:D3}", $"grp-{g}", Start.AddDays(g), [.. members[g]]);
            }

            await BulkWriter.WriteAsync(db);
        }
    }

    private static string Capital(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
