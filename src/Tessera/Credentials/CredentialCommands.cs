using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary><c>tessera credentials offer</c>: an OpenID4VCI offer with a pre-authorized code for one user, as the Admin API makes it.</summary>
internal static class CredentialCommands
{
    public static Command Create(Option<string> configOption)
    {
        var userArgument = new Argument<string>("user") { Description = "The user's id (the sub of their tokens, their SCIM id)." };
        var credentialOption = new Option<string>("--credential") { Description = "Id of the credential, as in the configuration's Credentials.", Required = true };
        var noCodeOption = new Option<bool>("--no-tx-code") { Description = "Make the offer without a transaction code (anyone holding the offer can redeem it)." };
        var offer = new Command("offer", "Offer a credential to a user: prints the offer URI for the wallet and the transaction code for the user.") { configOption, userArgument, credentialOption, noCodeOption };
        offer.SetAction((result, cancellationToken) => OfferAsync(result.GetValue(configOption)!, result.GetValue(userArgument)!, result.GetValue(credentialOption)!, !result.GetValue(noCodeOption), cancellationToken));
        return new Command("credentials", "Verifiable credentials Tessera issues.") { offer };
    }

    private static Task<int> OfferAsync(string configFile, string user, string credentialId, bool transactionCode, CancellationToken cancellationToken) =>
        TesseraCli.WithStorageAsync(configFile, migrate: false, async services =>
        {
            var credential = services.GetRequiredService<TesseraConfiguration>().Current.Declared.Credentials.FirstOrDefault(c => c.Id == credentialId);
            if (credential is null)
            {
                await Console.Error.WriteLineAsync($"{configFile}: no credential '{credentialId}' in Credentials; no offer was made.");
                return 1;
            }

            var audit = services.GetRequiredService<AuditLog>();
            await audit.StartAsync(cancellationToken);
            try
            {
                await using var scope = services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
                var record = Guid.TryParse(user, out var userId) ? await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, cancellationToken) : null;
                if (record is null || record.DisabledAt is not null || !credential.Organizations.Contains(record.OrganizationId, StringComparer.Ordinal))
                {
                    await Console.Error.WriteLineAsync($"No enabled user '{user}' of an organization credential '{credential.Id}' is offered to; no offer was made.");
                    return 1;
                }

                // Staged first: the offer's save stores both.
                audit.Stage(db, new AuditEvent(AuditEvents.CredentialOffered, AuditEvent.Success)
                {
                    OrganizationId = record.OrganizationId,
                    UserId = record.Id.ToString(),
                    Detail = new Dictionary<string, string?> { ["by"] = "cli", ["configuration"] = credential.Id, ["tx_code"] = transactionCode ? "true" : "false" },
                });
                var created = await scope.ServiceProvider.GetRequiredService<CredentialOffers>().CreateAsync(credential, record, transactionCode, cancellationToken);
                Console.WriteLine($"Offer of '{credential.Id}' to user {record.Id}, good until {created.ExpiresAt:u}; give the wallet:");
                Console.WriteLine(created.OfferUri);
                if (created.TransactionCode is not null)
                {
                    Console.WriteLine($"Transaction code, for the user by another channel: {created.TransactionCode}");
                }

                return 0;
            }
            finally
            {
                await audit.StopAsync(CancellationToken.None);
            }
        }, cancellationToken);
}
