using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// List requests (RFC 7644 §3.4.2): the filter becomes a database query (<see cref="ScimUserQuery"/>, <see cref="ScimGroupQuery"/>), the total is
/// counted there, and only the page asked for is read and rendered.
/// </summary>
public sealed class ScimLists(TesseraDbContext db, ScimUsers users, ScimGroups groups)
{
    public async Task<JsonObject> UsersAsync(string organizationId, ScimListRequest request, string baseUrl, CancellationToken cancellationToken)
    {
        var query = ScimUserQuery.Users(db, organizationId, request.Filter).AsNoTracking();
        var total = await query.CountAsync(cancellationToken);
        var page = request.Count == 0
            ? []
            : await ScimUserQuery.Order(query, request.Sort).Skip(request.StartIndex - 1).Take(request.Count).ToListAsync(cancellationToken);
        var memberships = page.Count > 0 && request.Projection.Includes(ScimSchemas.UserType, "groups")
            ? await users.GroupsOfAsync([.. page.Select(u => u.UserId)], cancellationToken)
            : [];
        var resources = page.Select(u => request.Projection.Apply(ScimSchemas.UserType,
            ScimRender.User(new ScimUser(u, memberships.TryGetValue(u.UserId, out var mine) ? mine : []), baseUrl)));
        return ScimRender.List(resources, total, request.StartIndex);
    }

    public async Task<JsonObject> GroupsAsync(string organizationId, ScimListRequest request, string baseUrl, CancellationToken cancellationToken)
    {
        var query = ScimGroupQuery.Groups(db, organizationId, request.Filter).AsNoTracking();
        var total = await query.CountAsync(cancellationToken);
        var page = request.Count == 0
            ? []
            : await ScimGroupQuery.Order(query, request.Sort).Skip(request.StartIndex - 1).Take(request.Count).ToListAsync(cancellationToken);
        var withMembers = request.Projection.Includes(ScimSchemas.GroupType, "members");
        var resources = new List<JsonObject>();
        foreach (var group in page)
        {
            var members = withMembers ? await groups.MembersAsync(group.Id, cancellationToken) : null;
            resources.Add(request.Projection.Apply(ScimSchemas.GroupType, ScimRender.Group(new ScimGroup(group, members), baseUrl)));
        }

        return ScimRender.List(resources, total, request.StartIndex);
    }
}
