using Microsoft.EntityFrameworkCore;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Directory;

/// <summary>
/// Okta's and Entra ID's provisioning replayed end to end, request by request, from the shapes their documentation
/// shows (Directory/Fixtures): after each step, the SCIM answer the provider needs and what the step did to the
/// directory, and a deactivation in each sequence cuts off a user who is signed in.
/// </summary>
public sealed class ScimContractTests
{
    /// <summary>Members pushed into one group: "hundreds", as large directories send them.</summary>
    private const int GroupSize = 300;

    /// <summary>One provider's replay: the values its fixtures are filled with, and which fixtures it has sent.</summary>
    private sealed class Replay(string provider, ScimClient scim)
    {
        private readonly HashSet<string> _replayed = [];

        public Dictionary<string, string> Values { get; } = [];

        public Task<ScimResponse> StepAsync(string name, IReadOnlyList<(string Id, string UserName)>? members = null)
        {
            _replayed.Add(name);
            return ScimFixture.Load(provider, name).ReplayAsync(scim, Values, members);
        }

        /// <summary>Provisions users with the provider's own create request, each with its own name.</summary>
        public async Task<List<(string Id, string UserName)>> CreateUsersAsync(string fixture, int count, string prefix)
        {
            var create = ScimFixture.Load(provider, fixture);
            var users = new List<(string Id, string UserName)>();
            for (var i = 0; i < count; i++)
            {
                var userName = $"{prefix}.{i:D3}@stmarys.example";
                var values = new Dictionary<string, string> { ["userName"] = userName, ["email"] = userName, ["externalId"] = $"{prefix}-{i:D3}" };
                users.Add(((await create.ReplayAsync(scim, values)).Id, userName));
            }

            return users;
        }

        /// <summary>Every documented shape of the provider was part of the replay.</summary>
        public void AssertEveryShapeReplayed() => Assert.Equal(ScimFixture.Names(provider), [.. _replayed.Order(StringComparer.Ordinal)]);
    }

    private static async Task<(BrokeredSignIn Host, ScimClient Scim)> StartAsync()
    {
        var host = await BrokeredSignIn.StartAsync(options => ScimClient.Configure(options));
        return (host, new ScimClient(host.Http, TestConfiguration.Organization, ScimClient.StMarysToken));
    }

    private static Task<Tessera.Storage.UserRecord> UserAsync(BrokeredSignIn host, string id) =>
        host.Server.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == Guid.Parse(id)));

    private static Task<Tessera.Storage.DirectoryUserRecord> ProvisionedAsync(BrokeredSignIn host, string id) =>
        host.Server.WithDbAsync(db => db.DirectoryUsers.AsNoTracking().SingleAsync(u => u.UserId == Guid.Parse(id)));

    private static Task<List<Guid>> MembersAsync(BrokeredSignIn host, string groupId) =>
        host.Server.WithDbAsync(db => db.DirectoryMembers.Where(m => m.GroupId == Guid.Parse(groupId)).Select(m => m.UserId).ToListAsync());

    /// <summary>Right after the deactivating answer: refresh fails, introspection says inactive, the session signs nobody in.</summary>
    private static async Task AssertCutOffAsync(BrokeredSignIn host, Browser browser, OauthResponse tokens)
    {
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(host.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Error);
        var introspected = await Oauth.IntrospectAsync(host.Http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, tokens["access_token"]!);
        Assert.Equal("false", introspected["active"]);
        var again = await Oauth.AuthorizeAsync(browser, TestConfiguration.PublicClient, TestConfiguration.PublicRedirect, "openid",
            new Dictionary<string, string?> { ["login_hint"] = host.Idp.Person.Email });
        Assert.Null(again.Code);
        Assert.Contains("disabled", await again.Response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Okta_provisioning_and_group_push_replay_end_to_end()
    {
        var (host, scim) = await StartAsync();
        await using var _ = host;
        var okta = new Replay("okta", scim);
        okta.Values["userName"] = okta.Values["email"] = host.Idp.Person.Email;
        okta.Values["externalId"] = "00u1ok7a0alice";

        // Assignment: connection test, lookup by userName, create.
        await okta.StepAsync("01-test-connection");
        await okta.StepAsync("02-find-user-none");
        var created = await okta.StepAsync("03-create-user");
        var userId = okta.Values["userId"] = created.Id;
        var user = await UserAsync(host, userId);
        Assert.Equal(host.Idp.Person.Email, user.Email);
        Assert.Equal("Carla", user.GivenName);
        Assert.Null(user.DisabledAt);
        var provisioned = await ProvisionedAsync(host, userId);
        Assert.Equal("00u1ok7a0alice", provisioned.ExternalId);
        Assert.DoesNotContain("password", provisioned.Document, StringComparison.OrdinalIgnoreCase);

        await okta.StepAsync("04-find-user");
        await okta.StepAsync("05-get-user");
        await okta.StepAsync("06-get-unknown-user");

        // Profile push: read, then PUT the whole user back.
        await okta.StepAsync("07-replace-user");
        user = await UserAsync(host, userId);
        Assert.Equal("Okafor-Reyes", user.FamilyName);
        Assert.Equal("Carla Okafor-Reyes", user.Name);

        // Provisioned first, signed in later: the sign-in is the provisioned user.
        using var browser = host.Server.CreateBrowser();
        var (_, tokens) = await host.SignInAsync(browser);
        Assert.Equal(userId, tokens.AccessToken.Subject);

        // Deactivation of an OIN integration (PATCH without path) cuts the signed-in user off within the request.
        await okta.StepAsync("08-deactivate-user-patch");
        Assert.NotNull((await UserAsync(host, userId)).DisabledAt);
        Assert.False((await ProvisionedAsync(host, userId)).Active);
        await AssertCutOffAsync(host, browser, tokens);

        await okta.StepAsync("09-reactivate-user-patch");
        Assert.Null((await UserAsync(host, userId)).DisabledAt);
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(host.Http, TestConfiguration.PublicClient, null, tokens["refresh_token"]!)).Error);

        // Reactivated, the user signs in anew (a second later: revocation is kept to the instant, issue times to the
        // second); the App Integration Wizard's PUT with active false cuts that session off in turn.
        await Task.Delay(1100);
        using var fresh = host.Server.CreateBrowser();
        var (_, again) = await host.SignInAsync(fresh);
        Assert.Equal(userId, again.AccessToken.Subject);
        await okta.StepAsync("10-deactivate-user-put");
        Assert.NotNull((await UserAsync(host, userId)).DisabledAt);
        await AssertCutOffAsync(host, fresh, again);
        await okta.StepAsync("11-reactivate-user-put");
        Assert.Null((await UserAsync(host, userId)).DisabledAt);

        // Group Push: create, add hundreds, remove some by filter, rename, push the full list, read, list, delete.
        var members = await okta.CreateUsersAsync("03-create-user", GroupSize, "okta");
        members.Insert(0, (userId, host.Idp.Person.Email));
        okta.Values["groupName"] = "Ward 7 Nurses";
        var group = await okta.StepAsync("12-create-group");
        var groupId = okta.Values["groupId"] = group.Id;
        Assert.Empty(await MembersAsync(host, groupId));

        await okta.StepAsync("13-add-members", members);
        Assert.Equal(GroupSize + 1, (await MembersAsync(host, groupId)).Count);

        var leaving = members.Skip(GroupSize + 1 - 100).ToList();
        await okta.StepAsync("14-remove-members", leaving);
        var remaining = await MembersAsync(host, groupId);
        Assert.Equal(GroupSize + 1 - 100, remaining.Count);
        Assert.DoesNotContain(remaining, m => leaving.Any(l => l.Id == m.ToString()));

        okta.Values["groupName"] = "Ward 7 Nursing";
        await okta.StepAsync("15-rename-group");
        Assert.Equal("Ward 7 Nursing", (await host.Server.WithDbAsync(db => db.DirectoryGroups.AsNoTracking().SingleAsync(g => g.Id == Guid.Parse(groupId)))).DisplayName);

        var pushed = members.Take(50).ToList();
        await okta.StepAsync("16-replace-members", pushed);
        Assert.Equal(pushed.Select(m => Guid.Parse(m.Id)).Order(), (await MembersAsync(host, groupId)).Order());

        var read = await okta.StepAsync("17-get-group");
        Assert.Equal(50, read.Json!["members"]!.AsArray().Count);
        var listed = await okta.StepAsync("18-list-groups");
        Assert.Equal(1, listed.Json!["totalResults"]!.GetValue<int>());

        await okta.StepAsync("19-delete-group");
        Assert.Equal(0, await host.Server.WithDbAsync(db => db.DirectoryGroups.CountAsync()));
        Assert.Equal(0, await host.Server.WithDbAsync(db => db.DirectoryMembers.CountAsync()));
        Assert.Equal(GroupSize + 1, await host.Server.WithDbAsync(db => db.DirectoryUsers.CountAsync()));

        okta.AssertEveryShapeReplayed();
    }

    [Fact]
    public async Task Entra_id_provisioning_and_group_sync_replay_end_to_end()
    {
        var (host, scim) = await StartAsync();
        await using var _ = host;
        var entra = new Replay("entra", scim);
        entra.Values["userName"] = entra.Values["email"] = host.Idp.Person.Email;
        entra.Values["externalId"] = "alice";

        // Signed in first, provisioned later: the SCIM user is the user who signed in.
        using var browser = host.Server.CreateBrowser();
        var (_, tokens) = await host.SignInAsync(browser);

        // Saving the configuration: schema discovery and the probes with random names.
        await entra.StepAsync("01-test-connection");
        await entra.StepAsync("29-discover-schemas");
        await entra.StepAsync("19-group-probe");

        await entra.StepAsync("02-find-user-none");
        var created = await entra.StepAsync("03-create-user");
        var userId = entra.Values["userId"] = created.Id;
        Assert.Equal(tokens.AccessToken.Subject, userId);
        Assert.Equal("alice", (await ProvisionedAsync(host, userId)).ExternalId);
        await entra.StepAsync("04-find-user");
        await entra.StepAsync("05-find-user-by-external-id");
        await entra.StepAsync("06-get-user");

        // Attribute changes, as Entra ID sends them with and without the aadOptscim062020 flag.
        entra.Values["email"] = "alice.adams@stmarys.example";
        await entra.StepAsync("07-update-user-multivalued");
        var user = await UserAsync(host, userId);
        Assert.Equal("alice.adams@stmarys.example", user.Email);
        Assert.Equal("Petrova", user.FamilyName);

        entra.Values["userName"] = "alice.adams@stmarys.example";
        await entra.StepAsync("08-update-user-name");
        Assert.Equal("alice.adams@stmarys.example", (await ProvisionedAsync(host, userId)).UserName);

        await entra.StepAsync("09-replace-attributes");
        Assert.Equal("Dmitri Petrova", (await UserAsync(host, userId)).Name);
        await entra.StepAsync("10-replace-attributes-without-path");
        Assert.Equal("Dmitri A. Petrov", (await UserAsync(host, userId)).Name);
        Assert.Contains("E-1042", (await ProvisionedAsync(host, userId)).Document, StringComparison.Ordinal);
        await entra.StepAsync("11-add-attribute");
        Assert.Contains("Radiology", (await ProvisionedAsync(host, userId)).Document, StringComparison.Ordinal);

        var manager = (await entra.CreateUsersAsync("03-create-user", 1, "manager"))[0];
        entra.Values["managerId"] = manager.Id;
        await entra.StepAsync("12-add-manager");
        await entra.StepAsync("13-replace-manager-object");
        Assert.Contains(manager.Id, (await ProvisionedAsync(host, userId)).Document, StringComparison.Ordinal);

        // Disable ("False" as a string) cuts the signed-in user off within the request; enabling brings nothing back.
        await entra.StepAsync("14-disable-user");
        Assert.NotNull((await UserAsync(host, userId)).DisabledAt);
        await AssertCutOffAsync(host, browser, tokens);
        await entra.StepAsync("15-enable-user");
        Assert.Null((await UserAsync(host, userId)).DisabledAt);
        Assert.Equal("false", (await Oauth.IntrospectAsync(host.Http, TestConfiguration.ResourceServer, TestConfiguration.ResourceServerSecret, tokens["access_token"]!))["active"]);
        await entra.StepAsync("16-disable-user-boolean");
        Assert.NotNull((await UserAsync(host, userId)).DisabledAt);
        await entra.StepAsync("15-enable-user");
        Assert.Null((await UserAsync(host, userId)).DisabledAt);

        // Groups: created empty, matched by name or objectId without members, filled by hundreds, emptied both ways.
        entra.Values["groupName"] = "Radiology Registrars";
        entra.Values["groupExternalId"] = Guid.NewGuid().ToString();
        var group = await entra.StepAsync("20-create-group");
        var groupId = entra.Values["groupId"] = group.Id;
        await entra.StepAsync("21-get-group");
        await entra.StepAsync("22-find-group-by-display-name");
        await entra.StepAsync("23-find-group-by-external-id");

        var members = await entra.CreateUsersAsync("03-create-user", GroupSize, "entra");
        await entra.StepAsync("24-add-members", members);
        Assert.Equal(GroupSize, (await MembersAsync(host, groupId)).Count);

        await entra.StepAsync("25-remove-members", members.Take(100).ToList());
        Assert.Equal(GroupSize - 100, (await MembersAsync(host, groupId)).Count);
        var filtered = members.Skip(100).Take(50).ToList();
        await entra.StepAsync("26-remove-members-by-filter", filtered);
        var remaining = await MembersAsync(host, groupId);
        Assert.Equal(GroupSize - 150, remaining.Count);
        Assert.Equal(members.Skip(150).Select(m => Guid.Parse(m.Id)).Order(), remaining.Order());

        entra.Values["groupName"] = "Radiology Registrars 2";
        await entra.StepAsync("27-rename-group");
        Assert.Equal("Radiology Registrars 2", (await host.Server.WithDbAsync(db => db.DirectoryGroups.AsNoTracking().SingleAsync(g => g.Id == Guid.Parse(groupId)))).DisplayName);
        await entra.StepAsync("28-delete-group");
        Assert.Equal(0, await host.Server.WithDbAsync(db => db.DirectoryMembers.CountAsync()));

        // Hard delete: the resource goes, the internal user stays, disabled.
        await entra.StepAsync("17-delete-user");
        Assert.NotNull((await UserAsync(host, userId)).DisabledAt);
        Assert.False(await host.Server.WithDbAsync(db => db.DirectoryUsers.AnyAsync(u => u.UserId == Guid.Parse(userId))));
        await entra.StepAsync("18-get-deleted-user");

        entra.AssertEveryShapeReplayed();
    }
}
