using System.Text.Json;
using Tessera.Hosting;

namespace Tessera.Admin;

/// <summary>
/// One kind of configuration resource as the Admin API serves it: where it lives in the file, how its body is read,
/// how it is named, and who may change it. <see cref="ConfigurationResources"/> serves every kind the same way.
/// </summary>
public sealed record ResourceType(
    string Kind,
    string Route,
    string Noun,
    bool UnderOrganization,
    Func<TesseraOptions, string?, IReadOnlyList<(string Id, object Options)>> FileItems,
    Func<JsonElement, object> Parse,
    Func<object, string?> GetId,
    Action<object, string> SetId)
{
    /// <summary>Only <c>tessera:admin</c> may create or delete (an organization-scoped caller may still read and replace its own).</summary>
    public bool PlatformOnly { get; init; }

    /// <summary>Only <c>tessera:admin</c> may do anything with it (clients, trusted issuers, exchange policies, receivers).</summary>
    public bool PlatformResource { get; init; }

    /// <summary>Ids are generated when the body names none (rules, exchange policies), with this prefix.</summary>
    public string? GeneratedIdPrefix { get; init; }

    /// <summary>Members of the settings not shown (an organization's connections and rules have their own routes).</summary>
    public IReadOnlyList<string> Omit { get; init; } = [];

    /// <summary>Connections are drafts until a test sign-in passes, when created through the portal or asked for.</summary>
    public bool HasStatus { get; init; }

    public static readonly ResourceType Organization = new(ManagedKinds.Organization, "organizations", "organization", false,
        (file, _) => file.Organizations.Select(o => (o.Id, (object)o)).ToList(),
        body =>
        {
            var organization = AdminJson.Parse<OrganizationOptions>(body, nameof(OrganizationOptions.Connections), nameof(OrganizationOptions.Rules));
            return organization.Scim.Tokens.Count > 0
                ? throw AdminProblem.Invalid([new ConfigurationError("$.Scim.Tokens", "SCIM tokens are made at /admin/v1/organizations/{id}/scim-tokens, and shown once")])
                : organization;
        },
        o => ((OrganizationOptions)o).Id, (o, id) => ((OrganizationOptions)o).Id = id)
    {
        PlatformOnly = true,
        Omit = ["Connections", "Rules", "Scim.Tokens"],
    };

    public static readonly ResourceType Connection = new(ManagedKinds.Connection, "connections", "connection", true,
        (file, organization) => file.Organizations.Where(o => o.Id == organization).SelectMany(o => o.Connections).Select(c => (c.Id, (object)c)).ToList(),
        body =>
        {
            var connection = AdminJson.Parse<ConnectionOptions>(body);
            TesseraOptionsDefaults.Apply(connection);
            return connection;
        },
        o => ((ConnectionOptions)o).Id, (o, id) => ((ConnectionOptions)o).Id = id)
    {
        HasStatus = true,
    };

    public static readonly ResourceType Rule = new(ManagedKinds.Rule, "rules", "rule", true,
        (file, organization) => file.Organizations.Where(o => o.Id == organization).SelectMany(o => o.Rules.Select((r, i) => (FileRuleId(r, i), (object)r))).ToList(),
        body => AdminJson.Parse<RuleOptions>(body),
        o => ((RuleOptions)o).Id, (o, id) => ((RuleOptions)o).Id = id)
    {
        GeneratedIdPrefix = "rule-",
    };

    public static readonly ResourceType Client = new(ManagedKinds.Client, "clients", "client", false,
        (file, _) => file.Clients.Select(c => (c.ClientId, (object)c)).ToList(),
        body => AdminJson.Parse<ClientOptions>(body, nameof(ClientOptions.ClientSecret)),
        o => ((ClientOptions)o).ClientId, (o, id) => ((ClientOptions)o).ClientId = id)
    {
        PlatformResource = true,
    };

    public static readonly ResourceType TrustedIssuer = new(ManagedKinds.TrustedIssuer, "trusted-issuers", "trusted issuer", false,
        (file, _) => file.TrustedIssuers.Select(i => (i.Id, (object)i)).ToList(),
        body =>
        {
            var issuer = AdminJson.Parse<TrustedIssuerOptions>(body);
            TesseraOptionsDefaults.Apply(issuer);
            return issuer;
        },
        o => ((TrustedIssuerOptions)o).Id, (o, id) => ((TrustedIssuerOptions)o).Id = id)
    {
        PlatformResource = true,
    };

    public static readonly ResourceType ExchangePolicy = new(ManagedKinds.ExchangePolicy, "exchange-policies", "exchange policy", false,
        (file, _) => file.ExchangePolicies.Select((p, i) => (p.Id ?? $"policy-{i + 1}", (object)p)).ToList(),
        body => AdminJson.Parse<ExchangePolicyOptions>(body),
        o => ((ExchangePolicyOptions)o).Id, (o, id) => ((ExchangePolicyOptions)o).Id = id)
    {
        PlatformResource = true,
        GeneratedIdPrefix = "policy-",
    };

    public static readonly ResourceType SignalReceiver = new(ManagedKinds.SignalReceiver, "signal-receivers", "signal receiver", false,
        (file, _) => file.Signals.Receivers.Select(r => (r.Id, (object)r)).ToList(),
        body => AdminJson.Parse<SignalReceiverOptions>(body),
        o => ((SignalReceiverOptions)o).Id, (o, id) => ((SignalReceiverOptions)o).Id = id)
    {
        PlatformResource = true,
    };

    public static readonly IReadOnlyList<ResourceType> All = [Organization, Connection, Rule, Client, TrustedIssuer, ExchangePolicy, SignalReceiver];

    /// <summary>A rule of the file is named by its Id, or by its place in the list when it has none.</summary>
    public static string FileRuleId(RuleOptions rule, int index) => rule.Id ?? $"rule-{index + 1}";
}
