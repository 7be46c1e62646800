using System.CommandLine;
using System.Globalization;
using Tessera.Directory;

namespace Tessera.Hosting;

/// <summary><c>tessera scim token create | list | revoke</c>: the generated bearer tokens of the organizations' SCIM services.</summary>
internal static class ScimTokenCommands
{
    // The length of scim_tokens.description.
    private const int DescriptionLimit = 200;

    public static Command Create(Option<string> configOption)
    {
        var organizationOption = new Option<string>("--organization") { Description = "Id of the organization whose directory the token opens.", Required = true };
        var descriptionOption = new Option<string?>("--description") { Description = "What the token is for, e.g. 'Okta provisioning' (at most 200 characters)." };
        descriptionOption.Validators.Add(result =>
        {
            if (result.GetValue(descriptionOption) is { Length: > DescriptionLimit })
            {
                result.AddError($"--description: at most {DescriptionLimit} characters");
            }
        });
        var create = new Command("create", "Make a bearer token for an organization's SCIM service; it is shown once.") { configOption, organizationOption, descriptionOption };
        create.SetAction((result, cancellationToken) => CreateAsync(
            result.GetValue(configOption)!, result.GetValue(organizationOption)!, result.GetValue(descriptionOption), cancellationToken));

        var listOrganizationOption = new Option<string?>("--organization") { Description = "Only this organization's tokens." };
        var list = new Command("list", "List the generated SCIM tokens (tokens in the configuration file are not listed).") { configOption, listOrganizationOption };
        list.SetAction((result, cancellationToken) => ListAsync(result.GetValue(configOption)!, result.GetValue(listOrganizationOption), cancellationToken));

        var idArgument = new Argument<string>("id") { Description = "Id of the token, as 'scim token list' shows it." };
        var revoke = new Command("revoke", "Revoke a generated SCIM token; it stops working at once on every node.") { configOption, idArgument };
        revoke.SetAction((result, cancellationToken) => RevokeAsync(result.GetValue(configOption)!, result.GetValue(idArgument)!, cancellationToken));

        var token = new Command("token", "Bearer tokens of the organizations' SCIM services.") { create, list, revoke };
        return new Command("scim", "SCIM 2.0 directory commands.") { token };
    }

    private static Task<int> CreateAsync(string configFile, string organizationId, string? description, CancellationToken cancellationToken) =>
        TesseraCli.WithStorageAsync(configFile, migrate: false, async services =>
        {
            var options = services.GetRequiredService<TesseraConfiguration>().Current;
            if (!options.Organizations.Any(o => o.Id == organizationId))
            {
                await Console.Error.WriteLineAsync($"{configFile}: no organization '{organizationId}' (known: {Known(options)}); no token was made.");
                return 1;
            }

            await using var scope = services.CreateAsyncScope();
            var (record, token) = await scope.ServiceProvider.GetRequiredService<ScimTokens>()
                .CreateAsync(organizationId, string.IsNullOrWhiteSpace(description) ? null : description, cancellationToken);
            Console.WriteLine($"SCIM token {record.Id} for organization '{organizationId}':");
            Console.WriteLine(token);
            Console.WriteLine("Copy it now: it is stored only as a hash and will not be shown again.");
            return 0;
        }, cancellationToken);

    private static Task<int> ListAsync(string configFile, string? organizationId, CancellationToken cancellationToken) =>
        TesseraCli.WithStorageAsync(configFile, migrate: false, async services =>
        {
            await using var scope = services.CreateAsyncScope();
            var tokens = await scope.ServiceProvider.GetRequiredService<ScimTokens>().ListAsync(organizationId, cancellationToken);
            var width = Math.Max("ORGANIZATION".Length, tokens.Select(t => t.OrganizationId.Length).DefaultIfEmpty().Max());
            Console.WriteLine($"{"ID",-12} {"ORGANIZATION".PadRight(width)} {"CREATED",-20} {"REVOKED",-20} DESCRIPTION");
            foreach (var token in tokens)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{token.Id,-12} {token.OrganizationId.PadRight(width)} {token.CreatedAt,-20:u} {(token.RevokedAt is { } revoked ? revoked.ToString("u", CultureInfo.InvariantCulture) : "-"),-20} {token.Description}"));
            }

            return 0;
        }, cancellationToken);

    private static Task<int> RevokeAsync(string configFile, string id, CancellationToken cancellationToken) =>
        TesseraCli.WithStorageAsync(configFile, migrate: false, async services =>
        {
            await using var scope = services.CreateAsyncScope();
            var tokens = scope.ServiceProvider.GetRequiredService<ScimTokens>();
            if (await tokens.RevokeAsync(id, cancellationToken))
            {
                Console.WriteLine($"SCIM token {id} is revoked.");
                return 0;
            }

            var known = (await tokens.ListAsync(null, cancellationToken)).FirstOrDefault(t => t.Id == id);
            await Console.Error.WriteLineAsync(known?.RevokedAt is { } revoked
                ? string.Create(CultureInfo.InvariantCulture, $"SCIM token {id} was already revoked at {revoked:u}.")
                : $"No SCIM token '{id}' (see 'tessera scim token list').");
            return 1;
        }, cancellationToken);

    private static string Known(TesseraModel options) =>
        options.Organizations.Count == 0 ? "none" : string.Join(", ", options.Organizations.Select(o => o.Id));
}
