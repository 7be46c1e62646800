using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Identity;
using Tessera.Sessions;
using Tessera.Signals;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// The User resources of one organization's SCIM service. A provisioned user is an internal user: the SCIM id is the
/// user's UUID, the profile the SCIM client writes (name, primary email) is what tokens say, and
/// <c>active: false</c> or DELETE cut the user off through <see cref="RevocationService"/> before the answer is sent.
/// </summary>
public sealed class ScimUsers(
    TesseraDbContext db,
    RevocationService revocation,
    ScimAudit audit,
    TesseraConfiguration configuration,
    TimeProvider time)
{
    public async Task<ScimUser> GetAsync(string organizationId, string id, CancellationToken cancellationToken)
    {
        var record = await FindAsync(organizationId, id, tracking: false, cancellationToken);
        var groups = await GroupsOfAsync([record.UserId], cancellationToken);
        return new ScimUser(record, groups.GetValueOrDefault(record.UserId) ?? []);
    }

    /// <summary>The groups of each user, for rendering <c>groups</c>.</summary>
    public async Task<Dictionary<Guid, List<(Guid Id, string Display)>>> GroupsOfAsync(IReadOnlyCollection<Guid> userIds, CancellationToken cancellationToken)
    {
        var rows = await (from m in db.DirectoryMembers
                          join g in db.DirectoryGroups on m.GroupId equals g.Id
                          where userIds.Contains(m.UserId)
                          orderby g.DisplayNameKey
                          select new { m.UserId, g.Id, g.DisplayName }).AsNoTracking().ToListAsync(cancellationToken);
        return rows.GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Select(r => (r.Id, r.DisplayName)).ToList());
    }

    public async Task<ScimUser> CreateAsync(string organizationId, JsonObject body, AuditEvent context, CancellationToken cancellationToken)
    {
        var document = ScimDocument.Normalize(ScimSchemas.UserType, body);
        var userName = document["userName"]!.GetValue<string>();
        var key = userName.ToLowerInvariant();
        if (await db.DirectoryUsers.AnyAsync(u => u.OrganizationId == organizationId && u.UserNameKey == key, cancellationToken))
        {
            throw ScimException.Uniqueness($"A user with userName '{ScimDocument.Shorten(userName)}' already exists.");
        }

        var now = ScimValueIndex.Timestamp(time);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // Someone who signed in before being provisioned keeps their id: the SCIM user is that user.
        var user = await SignedInBeforeAsync(organizationId, document, cancellationToken)
            ?? db.Users.Add(new UserRecord { Id = Guid.NewGuid(), OrganizationId = organizationId, CreatedAt = now }).Entity;
        var active = Active(document) ?? true;
        var record = new DirectoryUserRecord { UserId = user.Id, OrganizationId = organizationId, CreatedAt = now };
        Fill(record, user, document, now);
        db.DirectoryUsers.Add(record);
        db.DirectoryUserValues.AddRange(ScimValueIndex.Rows(user.Id, document));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (!StorageOutage.IsUnavailable(exception))
        {
            // A concurrent POST of the same userName won the unique index.
            throw ScimException.Uniqueness($"A user with userName '{ScimDocument.Shorten(userName)}' already exists.");
        }

        if (!active)
        {
            await revocation.DisableUserAsync(user.Id, "provisioned inactive", InitiatingEntities.Admin, context, cancellationToken);
        }
        else
        {
            await revocation.EnableUserAsync(user, "provisioned active", InitiatingEntities.Admin, context, cancellationToken);
        }

        audit.Changed(db, context, organizationId, "User", "created", user.Id, null, Stored(record));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ScimUser(record, []);
    }

    public Task<ScimUser> ReplaceAsync(string organizationId, string id, JsonObject body, string? ifMatch, AuditEvent context, CancellationToken cancellationToken) =>
        ChangeAsync(organizationId, id, ifMatch, context, _ => ScimDocument.Normalize(ScimSchemas.UserType, body), "replaced", cancellationToken);

    public Task<ScimUser> PatchAsync(string organizationId, string id, JsonObject body, string? ifMatch, AuditEvent context, CancellationToken cancellationToken) =>
        ChangeAsync(organizationId, id, ifMatch, context, current => ScimPatch.Apply(ScimSchemas.UserType, current, body), "patched", cancellationToken);

    private async Task<ScimUser> ChangeAsync(string organizationId, string id, string? ifMatch, AuditEvent context,
        Func<JsonObject, JsonObject> change, string verb, CancellationToken cancellationToken)
    {
        var record = await FindAsync(organizationId, id, tracking: true, cancellationToken);
        ScimETag.Require(ifMatch, record.Version);
        var before = Stored(record);
        var document = change(before);
        var after = WithActive(document, Active(document) ?? record.Active);
        if (JsonNode.DeepEquals(before, after))
        {
            return await GetAsync(organizationId, id, cancellationToken);
        }

        var userName = after["userName"]!.GetValue<string>();
        var key = userName.ToLowerInvariant();
        if (key != record.UserNameKey
            && await db.DirectoryUsers.AnyAsync(u => u.OrganizationId == organizationId && u.UserNameKey == key && u.UserId != record.UserId, cancellationToken))
        {
            throw ScimException.Uniqueness($"A user with userName '{ScimDocument.Shorten(userName)}' already exists.");
        }

        var wasActive = record.Active;
        var now = ScimValueIndex.Timestamp(time);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var user = await db.Users.FirstAsync(u => u.Id == record.UserId, cancellationToken);
        Fill(record, user, after, now);
        record.Version++;
        await db.DirectoryUserValues.Where(v => v.UserId == record.UserId).ExecuteDeleteAsync(cancellationToken);
        db.DirectoryUserValues.AddRange(ScimValueIndex.Rows(record.UserId, after));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException exception) when (!StorageOutage.IsUnavailable(exception))
        {
            throw ScimException.PreconditionFailed("The user was changed by another request; read it again and retry.");
        }
        catch (DbUpdateException exception) when (!StorageOutage.IsUnavailable(exception))
        {
            throw ScimException.Uniqueness($"A user with userName '{ScimDocument.Shorten(userName)}' already exists.");
        }

        if (!record.Active && wasActive)
        {
            await revocation.DisableUserAsync(record.UserId, "deactivated by SCIM", InitiatingEntities.Admin, context, cancellationToken);
        }
        else if (record.Active && !wasActive)
        {
            // Enabled again; tokens from before stay dead (TokensValidAfter).
            await revocation.EnableUserAsync(user, "reactivated by SCIM", InitiatingEntities.Admin, context, cancellationToken);
        }

        var action = record.Active == wasActive ? verb : record.Active ? "reactivated" : "deactivated";
        audit.Changed(db, context, organizationId, "User", action, record.UserId, before, after);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return await GetAsync(organizationId, id, cancellationToken);
    }

    /// <summary>
    /// Removes the SCIM resource and cuts the user off. The internal user stays, disabled, so that audit rows keep
    /// their subject and a later sign-in through a remembered link is refused rather than made anew.
    /// </summary>
    public async Task DeleteAsync(string organizationId, string id, string? ifMatch, AuditEvent context, CancellationToken cancellationToken)
    {
        var record = await FindAsync(organizationId, id, tracking: true, cancellationToken);
        ScimETag.Require(ifMatch, record.Version);
        var before = Stored(record);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.DirectoryUsers.Remove(record);
        await db.SaveChangesAsync(cancellationToken);
        await revocation.DisableUserAsync(record.UserId, "deleted by SCIM", InitiatingEntities.Admin, context, cancellationToken);
        audit.Changed(db, context, organizationId, "User", "deleted", record.UserId, before, null);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<DirectoryUserRecord> FindAsync(string organizationId, string id, bool tracking, CancellationToken cancellationToken)
    {
        var query = tracking ? db.DirectoryUsers : db.DirectoryUsers.AsNoTracking();
        return Guid.TryParse(id, out var userId)
            && await query.FirstOrDefaultAsync(u => u.UserId == userId && u.OrganizationId == organizationId, cancellationToken) is { } record
            ? record
            : throw ScimException.NotFound($"No user '{ScimDocument.Shorten(id)}'.");
    }

    /// <summary>
    /// An internal user of the organization who signed in before the SCIM client provisioned them and who is not
    /// provisioned yet, found by the organization's match rule; null unless exactly one fits.
    /// </summary>
    private async Task<UserRecord?> SignedInBeforeAsync(string organizationId, JsonObject document, CancellationToken cancellationToken)
    {
        var organization = configuration.Current.FindOrganization(organizationId);
        var unprovisioned = db.Users.Where(u => u.OrganizationId == organizationId && !db.DirectoryUsers.Any(d => d.UserId == u.Id));
        List<UserRecord> candidates;
        if (organization?.Scim.Match == ScimOptions.MatchExternalId)
        {
            var externalId = document["externalId"]?.GetValue<string>();
            if (externalId is null)
            {
                return null;
            }

            var linked = db.ExternalIdentities.Where(l => l.OrganizationId == organizationId && l.Subject == externalId).Select(l => l.UserId);
            candidates = await unprovisioned.Where(u => linked.Contains(u.Id)).OrderBy(u => u.Id).Take(2).ToListAsync(cancellationToken);
        }
        else
        {
            var emails = ScimProfile.MatchableEmails(document);
            candidates = await unprovisioned.Where(u => u.Email != null && emails.Contains(u.Email.ToLower())).OrderBy(u => u.Id).Take(2).ToListAsync(cancellationToken);
        }

        return candidates.Count == 1 ? candidates[0] : null;
    }

    private static void Fill(DirectoryUserRecord record, UserRecord user, JsonObject document, DateTime now)
    {
        var userName = document["userName"]!.GetValue<string>();
        record.UserName = userName;
        record.UserNameKey = userName.ToLowerInvariant();
        record.ExternalId = document["externalId"]?.GetValue<string>();
        record.DisplayName = document["displayName"]?.GetValue<string>();
        record.DisplayNameKey = record.DisplayName?.ToLowerInvariant();
        record.Active = Active(document) ?? true;
        var stored = (JsonObject)document.DeepClone();
        stored.Remove("active");
        record.Document = stored.ToJsonString();
        record.UpdatedAt = now;
        ScimProfile.Apply(user, document);
        user.UpdatedAt = now;
    }

    private static bool? Active(JsonObject document) => document["active"] is JsonValue value ? value.GetValue<bool>() : null;

    private static JsonObject WithActive(JsonObject document, bool active)
    {
        document["active"] = active;
        return document;
    }

    /// <summary>The resource as stored, with <c>active</c> from its column.</summary>
    public static JsonObject Stored(DirectoryUserRecord record) =>
        WithActive(JsonNode.Parse(record.Document) as JsonObject ?? [], record.Active);
}

/// <summary>A provisioned user and the groups it is in, ready to render.</summary>
public sealed record ScimUser(DirectoryUserRecord Record, IReadOnlyList<(Guid Id, string Display)> Groups);
