using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>An organization as the compiled configuration holds it: its domains, rules, SCIM settings and its connections, each compiled by its connector.</summary>
public sealed class Organization(OrganizationOptions options)
{
    public OrganizationOptions Options { get; } = options;

    public string Id => Options.Id;

    public string? DisplayName => Options.DisplayName;

    /// <summary>What people are shown: the display name, or the id.</summary>
    public string Name => Options.DisplayName ?? Options.Id;

    public IReadOnlyList<string> Domains => Options.Domains;

    public IReadOnlyList<RuleOptions> Rules => Options.Rules;

    public ScimOptions Scim => Options.Scim;

    /// <summary>The connections people sign in with.</summary>
    public IReadOnlyList<Connection> Connections { get; internal set; } = [];

    /// <summary>Connections set up but not yet activated (no test sign-in has passed): only test sign-ins use them.</summary>
    public IReadOnlyList<Connection> DraftConnections { get; internal set; } = [];
}
