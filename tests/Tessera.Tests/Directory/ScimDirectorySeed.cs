using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Directory;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Tests.Directory;

/// <summary>
/// Writes provisioned users and groups straight into the directory tables, the way the SCIM service stores them:
/// the internal user, the directory user with its columns taken from the document, and its value rows.
/// </summary>
public static class ScimDirectorySeed
{
    public static TesseraDbContext Open(StorageOptions storage) => storage.Provider == StorageProvider.Postgres
        ? new PostgresTesseraDbContext(new DbContextOptionsBuilder<PostgresTesseraDbContext>().UseNpgsql(storage.ConnectionString).Options)
        : new SqliteTesseraDbContext(new DbContextOptionsBuilder<SqliteTesseraDbContext>().UseSqlite(storage.ConnectionString).Options);

    public static void AddUser(TesseraDbContext db, string organizationId, Guid id, string json, DateTime created, DateTime modified)
    {
        var document = JsonNode.Parse(json)!.AsObject();
        var userName = (string)document["userName"]!;
        var displayName = (string?)document["displayName"];
        db.Users.Add(new UserRecord { Id = id, OrganizationId = organizationId, Email = userName, CreatedAt = created, UpdatedAt = modified });
        db.DirectoryUsers.Add(new DirectoryUserRecord
        {
            UserId = id,
            OrganizationId = organizationId,
            UserName = userName,
            UserNameKey = userName.ToLowerInvariant(),
            ExternalId = (string?)document["externalId"],
            DisplayName = displayName,
            DisplayNameKey = displayName?.ToLowerInvariant(),
            Active = Active(document["active"]),
            Document = document.ToJsonString(),
            Version = 1,
            CreatedAt = created,
            UpdatedAt = modified,
        });
        db.DirectoryUserValues.AddRange(ScimValueIndex.Rows(id, document));
    }

    public static void AddGroup(TesseraDbContext db, string organizationId, Guid id, string displayName, string? externalId, DateTime created, params Guid[] members)
    {
        db.DirectoryGroups.Add(new DirectoryGroupRecord
        {
            Id = id,
            OrganizationId = organizationId,
            DisplayName = displayName,
            DisplayNameKey = displayName.ToLowerInvariant(),
            ExternalId = externalId,
            Version = 1,
            CreatedAt = created,
            UpdatedAt = created,
        });
        db.DirectoryMembers.AddRange(members.Select(m => new DirectoryMemberRecord { GroupId = id, UserId = m }));
    }

    // A missing "active" is active; Entra ID sends "True"/"False" as strings.
    private static bool Active(JsonNode? node) => node is not JsonValue value || value.GetValueKind() switch
    {
        JsonValueKind.False => false,
        JsonValueKind.String => !bool.TryParse(value.GetValue<string>(), out var flag) || flag,
        _ => true,
    };
}
