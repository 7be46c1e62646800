namespace Tessera.Admin;

/// <summary>
/// Who is calling the Admin API: a client of Tessera's own, with the admin scopes its access token carries.
/// <c>tessera:admin</c> reaches everything; <c>tessera:admin:org:{organizationId}</c> reaches that organization only.
/// </summary>
public sealed record AdminCaller(string ClientId, IReadOnlySet<string> Scopes)
{
    public const string PlatformScope = "tessera:admin";
    public const string OrganizationScopePrefix = "tessera:admin:org:";

    public static string OrganizationScope(string organizationId) => OrganizationScopePrefix + organizationId;

    public bool IsPlatformAdmin => Scopes.Contains(PlatformScope);

    public bool CanManage(string organizationId) => IsPlatformAdmin || Scopes.Contains(OrganizationScope(organizationId));

    /// <summary>The organizations an organization-scoped caller reaches (empty for a platform admin, who reaches all).</summary>
    public IEnumerable<string> Organizations => Scopes.Where(s => s.StartsWith(OrganizationScopePrefix, StringComparison.Ordinal)).Select(s => s[OrganizationScopePrefix.Length..]);

    /// <summary>How the change is attributed in the audit log and on the resource.</summary>
    public string Actor => ClientId;
}
