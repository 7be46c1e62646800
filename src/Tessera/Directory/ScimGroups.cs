using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// The Group resources of one organization's SCIM service. Members are users of the same organization; membership
/// lives in its own table, so a PATCH adding hundreds of members writes only what changed, and mapping rules can
/// match a user's groups (by display name or id) at the next token issuance.
/// </summary>
public sealed class ScimGroups(TesseraDbContext db, ScimAudit audit, TimeProvider time)
{
    public async Task<ScimGroup> GetAsync(string organizationId, string id, bool withMembers, CancellationToken cancellationToken)
    {
        var record = await FindAsync(organizationId, id, tracking: false, cancellationToken);
        return new ScimGroup(record, withMembers ? await MembersAsync(record.Id, cancellationToken) : null);
    }

    /// <summary>Members with the name to show for each (display name, else userName).</summary>
    public async Task<List<(Guid Id, string Display)>> MembersAsync(Guid groupId, CancellationToken cancellationToken)
    {
        var rows = await (from m in db.DirectoryMembers
                          join u in db.DirectoryUsers on m.UserId equals u.UserId
                          where m.GroupId == groupId
                          orderby u.UserNameKey
                          select new { u.UserId, Display = u.DisplayName ?? u.UserName }).AsNoTracking().ToListAsync(cancellationToken);
        return rows.Select(r => (r.UserId, r.Display)).ToList();
    }

    public async Task<ScimGroup> CreateAsync(string organizationId, JsonObject body, AuditEvent context, CancellationToken cancellationToken)
    {
        var document = ScimDocument.Normalize(ScimSchemas.GroupType, body);
        var displayName = document["displayName"]!.GetValue<string>();
        await RequireUniqueAsync(organizationId, displayName, null, cancellationToken);
        var members = await MemberIdsAsync(organizationId, document, cancellationToken);
        var now = ScimValueIndex.Timestamp(time);
        var record = new DirectoryGroupRecord
        {
            Id = Guid.NewGuid(),
            OrganizationId = organizationId,
            DisplayName = displayName,
            DisplayNameKey = displayName.ToLowerInvariant(),
            ExternalId = document["externalId"]?.GetValue<string>(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.DirectoryGroups.Add(record);
        db.DirectoryMembers.AddRange(members.Select(m => new DirectoryMemberRecord { GroupId = record.Id, UserId = m }));
        audit.Changed(db, context, organizationId, "Group", "created", record.Id, null, Summary(record), MemberCounts(members.Count, 0, members));
        await SaveAsync(displayName, cancellationToken);
        return new ScimGroup(record, null);
    }

    public Task<ScimGroup> ReplaceAsync(string organizationId, string id, JsonObject body, string? ifMatch, AuditEvent context, CancellationToken cancellationToken) =>
        ChangeAsync(organizationId, id, ifMatch, context, _ => ScimDocument.Normalize(ScimSchemas.GroupType, body), "replaced", cancellationToken);

    public Task<ScimGroup> PatchAsync(string organizationId, string id, JsonObject body, string? ifMatch, AuditEvent context, CancellationToken cancellationToken) =>
        ChangeAsync(organizationId, id, ifMatch, context, current => ScimPatch.Apply(ScimSchemas.GroupType, current, body), "patched", cancellationToken);

    private async Task<ScimGroup> ChangeAsync(string organizationId, string id, string? ifMatch, AuditEvent context,
        Func<JsonObject, JsonObject> change, string verb, CancellationToken cancellationToken)
    {
        var record = await FindAsync(organizationId, id, tracking: true, cancellationToken);
        ScimETag.Require(ifMatch, record.Version);
        var current = await db.DirectoryMembers.Where(m => m.GroupId == record.Id).Select(m => m.UserId).ToListAsync(cancellationToken);
        var before = Summary(record);
        var document = before.DeepClone().AsObject();
        if (current.Count > 0)
        {
            document["members"] = new JsonArray([.. current.Select(m => new JsonObject { ["value"] = m.ToString() })]);
        }

        var after = change(document);
        var wanted = await MemberIdsAsync(organizationId, after, cancellationToken);
        var added = wanted.Except(current).ToList();
        var removed = current.Except(wanted).ToList();
        var displayName = after["displayName"]!.GetValue<string>();
        var externalId = after["externalId"]?.GetValue<string>();
        if (added.Count == 0 && removed.Count == 0 && displayName == record.DisplayName && externalId == record.ExternalId)
        {
            return new ScimGroup(record, null);
        }

        if (displayName.ToLowerInvariant() != record.DisplayNameKey)
        {
            await RequireUniqueAsync(organizationId, displayName, record.Id, cancellationToken);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        record.DisplayName = displayName;
        record.DisplayNameKey = displayName.ToLowerInvariant();
        record.ExternalId = externalId;
        record.Version++;
        record.UpdatedAt = ScimValueIndex.Timestamp(time);
        if (removed.Count > 0)
        {
            await db.DirectoryMembers.Where(m => m.GroupId == record.Id && removed.Contains(m.UserId)).ExecuteDeleteAsync(cancellationToken);
        }

        db.DirectoryMembers.AddRange(added.Select(m => new DirectoryMemberRecord { GroupId = record.Id, UserId = m }));
        audit.Changed(db, context, organizationId, "Group", verb, record.Id, before, Summary(record), MemberCounts(added.Count, removed.Count, added.Concat(removed)));
        await SaveAsync(displayName, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ScimGroup(record, null);
    }

    public async Task DeleteAsync(string organizationId, string id, string? ifMatch, AuditEvent context, CancellationToken cancellationToken)
    {
        var record = await FindAsync(organizationId, id, tracking: true, cancellationToken);
        ScimETag.Require(ifMatch, record.Version);
        var members = await db.DirectoryMembers.CountAsync(m => m.GroupId == record.Id, cancellationToken);
        db.DirectoryGroups.Remove(record);
        audit.Changed(db, context, organizationId, "Group", "deleted", record.Id, Summary(record), null, MemberCounts(0, members, []));
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task<DirectoryGroupRecord> FindAsync(string organizationId, string id, bool tracking, CancellationToken cancellationToken)
    {
        var query = tracking ? db.DirectoryGroups : db.DirectoryGroups.AsNoTracking();
        return Guid.TryParse(id, out var groupId)
            && await query.FirstOrDefaultAsync(g => g.Id == groupId && g.OrganizationId == organizationId, cancellationToken) is { } record
            ? record
            : throw ScimException.NotFound($"No group '{ScimDocument.Shorten(id)}'.");
    }

    private async Task RequireUniqueAsync(string organizationId, string displayName, Guid? self, CancellationToken cancellationToken)
    {
        var key = displayName.ToLowerInvariant();
        if (await db.DirectoryGroups.AnyAsync(g => g.OrganizationId == organizationId && g.DisplayNameKey == key && g.Id != self, cancellationToken))
        {
            throw ScimException.Uniqueness($"A group named '{ScimDocument.Shorten(displayName)}' already exists.");
        }
    }

    /// <summary>The member ids a document names; each must be a provisioned user of the same organization.</summary>
    private async Task<HashSet<Guid>> MemberIdsAsync(string organizationId, JsonObject document, CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        foreach (var member in document["members"] as JsonArray ?? [])
        {
            if (member?["type"] is JsonValue type && !string.Equals(type.ToString(), "User", StringComparison.OrdinalIgnoreCase))
            {
                throw ScimException.InvalidValue("Group members must be users; nested groups are not supported.");
            }

            var value = member?["value"]?.ToString();
            if (value is null || !Guid.TryParse(value, out var id))
            {
                throw ScimException.InvalidValue($"The member '{ScimDocument.Shorten(value ?? "(no value)")}' is not a user of this organization.");
            }

            ids.Add(id);
        }

        if (ids.Count > 0)
        {
            var known = new HashSet<Guid>();
            foreach (var chunk in ids.Chunk(500))
            {
                known.UnionWith(await db.DirectoryUsers
                    .Where(u => u.OrganizationId == organizationId && chunk.Contains(u.UserId))
                    .Select(u => u.UserId).ToListAsync(cancellationToken));
            }

            if (ids.FirstOrDefault(id => !known.Contains(id)) is var missing && missing != Guid.Empty)
            {
                throw ScimException.InvalidValue($"The member '{missing}' is not a user of this organization.");
            }
        }

        return ids;
    }

    private async Task SaveAsync(string displayName, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException exception) when (!StorageOutage.IsUnavailable(exception))
        {
            throw ScimException.PreconditionFailed("The group was changed by another request; read it again and retry.");
        }
        catch (DbUpdateException exception) when (!StorageOutage.IsUnavailable(exception))
        {
            throw ScimException.Uniqueness($"A group named '{ScimDocument.Shorten(displayName)}' already exists.");
        }
    }

    /// <summary>The group's own attributes (members are audited as counts and ids, not as a before/after list).</summary>
    private static JsonObject Summary(DirectoryGroupRecord record)
    {
        var summary = new JsonObject { ["displayName"] = record.DisplayName };
        if (record.ExternalId is not null)
        {
            summary["externalId"] = record.ExternalId;
        }

        return summary;
    }

    private static Dictionary<string, string?> MemberCounts(int added, int removed, IEnumerable<Guid> ids)
    {
        var sample = ids.Take(50).Select(i => i.ToString()).ToList();
        return new Dictionary<string, string?>
        {
            ["members_added"] = added.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["members_removed"] = removed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["member_ids"] = sample.Count == 0 ? null : string.Join(',', sample),
        };
    }
}

/// <summary>A group, with its members when the answer includes them.</summary>
public sealed record ScimGroup(DirectoryGroupRecord Record, IReadOnlyList<(Guid Id, string Display)>? Members);
