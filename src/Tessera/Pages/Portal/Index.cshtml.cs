using Microsoft.AspNetCore.Mvc;
using Tessera.Admin;
using Tessera.Directory;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Pages.Portal;

/// <summary>The portal's overview: the organization's connections, its email domains, and SCIM provisioning.</summary>
public sealed class IndexModel(ManagedChanges changes, ScimTokens scimTokens, ConnectionTestResults tests, PortalSessions sessions, TesseraIssuer issuer, TimeProvider time) : PortalPageModel
{
    public sealed record ConnectionRow(string Id, string Name, string Protocol, string Status, bool Editable, bool? LastTest);

    public List<ConnectionRow> Connections { get; } = [];

    public IReadOnlyList<string> Domains { get; private set; } = [];

    public bool DomainsEditable { get; private set; }

    public string? DomainProblem { get; private set; }

    public string? Message { get; private set; }

    public string ScimBaseUrl => issuer.Url($"/scim/v2/{Uri.EscapeDataString(OrganizationId)}");

    public List<ScimTokenRecord> ScimTokens { get; private set; } = [];

    public string? NewScimToken { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAddDomainAsync(string? newDomain, CancellationToken cancellationToken)
    {
        var domain = newDomain?.Trim().TrimEnd('.').ToLowerInvariant() ?? "";
        DomainProblem = await ChangeDomainsAsync(domains => domains.Contains(domain, StringComparer.OrdinalIgnoreCase) ? domains : [.. domains, domain], cancellationToken);
        Message = DomainProblem is null ? $"{domain} added." : null;
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRemoveDomainAsync(string? domain, CancellationToken cancellationToken)
    {
        DomainProblem = await ChangeDomainsAsync(domains => [.. domains.Where(d => !string.Equals(d, domain, StringComparison.OrdinalIgnoreCase))], cancellationToken);
        Message = DomainProblem is null ? $"{domain} removed." : null;
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostCreateScimTokenAsync(CancellationToken cancellationToken)
    {
        var (_, token) = await scimTokens.CreateAsync(OrganizationId, $"made in the setup portal {time.GetUtcNow():yyyy-MM-dd HH:mm}", cancellationToken);
        NewScimToken = token;
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeScimTokenAsync(string? tokenId, CancellationToken cancellationToken)
    {
        var own = (await scimTokens.ListAsync(OrganizationId, cancellationToken)).Any(t => t.Id == tokenId && t.RevokedAt is null);
        Message = own && await scimTokens.RevokeAsync(tokenId!, cancellationToken) ? "The token was revoked: it opens nothing from now on." : "No such token.";
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostSignOutAsync(CancellationToken cancellationToken)
    {
        await sessions.EndAsync(HttpContext, PortalSession, cancellationToken);
        return Redirect($"{Request.PathBase}/portal/ended");
    }

    private async Task<string?> ChangeDomainsAsync(Func<List<string>, List<string>> change, CancellationToken cancellationToken)
    {
        try
        {
            await changes.SaveAsync(Actor, "change domains of", current =>
            {
                var organization = current.Find(ManagedKinds.Organization, OrganizationId) ?? throw AdminProblem.ManagedByFile("This organization");
                var options = ConfigurationMerge.Clone(organization.As<OrganizationOptions>());
                options.Domains = change(options.Domains);
                return [new ResourceChange(ManagedKinds.Organization, OrganizationId, organization with { Options = options })];
            }, cancellationToken);
            Current = HttpContext.RequestServices.GetRequiredService<TesseraConfiguration>().Current;
            return null;
        }
        catch (AdminProblem problem)
        {
            return problem.Errors.Count > 0 ? string.Join(" ", problem.Errors.Select(e => e.Reason)) : problem.Message;
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var organization = Current.FindOrganization(OrganizationId);
        var managedOrganization = Current.Managed.Find(ManagedKinds.Organization, OrganizationId);
        Domains = organization?.Domains ?? managedOrganization?.As<OrganizationOptions>().Domains ?? [];
        DomainsEditable = managedOrganization is not null;
        foreach (var connection in (organization?.Connections ?? []).Concat(organization?.DraftConnections ?? []))
        {
            var managed = Current.FindManaged(ManagedKinds.Connection, connection.Id);
            var latest = await tests.LatestAsync(connection.Id, cancellationToken);
            Connections.Add(new ConnectionRow(connection.Id, connection.Options.DisplayName ?? connection.Id, connection.Protocol, connection.IsDraft ? ManagedKinds.Draft : ManagedKinds.Active,
                managed is not null, latest?.Passed));
        }

        ScimTokens = (await scimTokens.ListAsync(OrganizationId, cancellationToken)).Where(t => t.RevokedAt is null).ToList();
    }
}
