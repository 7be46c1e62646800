using System.CommandLine;
using Tessera.Audit;
using Tessera.Sessions;
using Tessera.Signals;
using Tessera.Storage;

namespace Tessera.Hosting;

/// <summary>
/// <c>tessera users disable | enable</c> and <c>tessera sessions end</c>: an operator cutting access off by hand, through
/// the same revocation service as every other cause. Running nodes send the resulting signals within
/// <c>Signals.PollInterval</c>.
/// </summary>
internal static class AccessCommands
{
    public static IEnumerable<Command> Create(Option<string> configOption)
    {
        var userArgument = new Argument<string>("user") { Description = "The user's id (the sub of their tokens, their SCIM id)." };
        var reasonOption = new Option<string?>("--reason") { Description = "Why, for the audit log and the signals (at most 200 characters)." };

        var disable = new Command("disable", "Disable a user: end every session, revoke every token, tell every app and receiver.") { configOption, userArgument, reasonOption };
        disable.SetAction((result, cancellationToken) => DisableAsync(result.GetValue(configOption)!, result.GetValue(userArgument)!, result.GetValue(reasonOption), cancellationToken));
        var enable = new Command("enable", "Let a disabled user sign in again (tokens from before stay dead).") { configOption, userArgument, reasonOption };
        enable.SetAction((result, cancellationToken) => EnableAsync(result.GetValue(configOption)!, result.GetValue(userArgument)!, result.GetValue(reasonOption), cancellationToken));

        var sessionArgument = new Argument<string>("session") { Description = "The session's id (the sid of its tokens)." };
        var end = new Command("end", "End one SSO session and every token granted under it; tell its apps and the receivers.") { configOption, sessionArgument, reasonOption };
        end.SetAction((result, cancellationToken) => EndSessionAsync(result.GetValue(configOption)!, result.GetValue(sessionArgument)!, result.GetValue(reasonOption), cancellationToken));

        return [new Command("users", "Operator actions on users.") { disable, enable }, new Command("sessions", "Operator actions on SSO sessions.") { end }];
    }

    private static string Reason(string? reason, string fallback) =>
        string.IsNullOrWhiteSpace(reason) ? fallback : reason.Length > 200 ? reason[..200] : reason;

    private static AuditEvent Operator(string reason) => new(AuditEvents.UserAccessRevoked, AuditEvent.Success)
    {
        Reason = reason,
        Detail = new Dictionary<string, string?> { ["by"] = "command line" },
    };

    private static Task<int> DisableAsync(string configFile, string user, string? reason, CancellationToken cancellationToken) =>
        RunAsync(configFile, async (services, revocation) =>
        {
            if (!Guid.TryParse(user, out var userId) || await FindAsync(services, userId, cancellationToken) is null)
            {
                await Console.Error.WriteLineAsync($"No user '{user}'; nothing was changed.");
                return 1;
            }

            var why = Reason(reason, "disabled by an operator");
            var ended = await revocation.DisableUserAsync(userId, why, InitiatingEntities.Admin, Operator(why), cancellationToken);
            Console.WriteLine($"User {userId} is disabled: {ended.Sessions} session(s) ended, {ended.Authorizations} authorization(s) and {ended.Tokens} token(s) revoked.");
            return 0;
        }, cancellationToken);

    private static Task<int> EnableAsync(string configFile, string user, string? reason, CancellationToken cancellationToken) =>
        RunAsync(configFile, async (services, revocation) =>
        {
            if (!Guid.TryParse(user, out var userId) || await FindAsync(services, userId, cancellationToken) is not { } record)
            {
                await Console.Error.WriteLineAsync($"No user '{user}'; nothing was changed.");
                return 1;
            }

            var why = Reason(reason, "enabled by an operator");
            Console.WriteLine(await revocation.EnableUserAsync(record, why, InitiatingEntities.Admin, Operator(why), cancellationToken)
                ? $"User {userId} may sign in again; tokens issued before it was disabled stay refused."
                : $"User {userId} was not disabled; nothing was changed.");
            return 0;
        }, cancellationToken);

    private static Task<int> EndSessionAsync(string configFile, string session, string? reason, CancellationToken cancellationToken) =>
        RunAsync(configFile, async (_, revocation) =>
        {
            var why = Reason(reason, "ended by an operator");
            if (!await revocation.EndSessionAsync(session, why, InitiatingEntities.Admin, Operator(why), cancellationToken))
            {
                await Console.Error.WriteLineAsync($"No live session '{session}'; nothing was changed.");
                return 1;
            }

            Console.WriteLine($"Session {session} has ended, with every token granted under it.");
            return 0;
        }, cancellationToken);

    private static async Task<UserRecord?> FindAsync(IServiceProvider services, Guid userId, CancellationToken cancellationToken) =>
        await services.GetRequiredService<TesseraDbContext>().Users.FindAsync([userId], cancellationToken);

    /// <summary>The command in a scope, with the audit writer running so its rows are stored before the process exits.</summary>
    private static Task<int> RunAsync(string configFile, Func<IServiceProvider, RevocationService, Task<int>> command, CancellationToken cancellationToken) =>
        TesseraCli.WithStorageAsync(configFile, migrate: false, async services =>
        {
            var audit = services.GetRequiredService<AuditLog>();
            await audit.StartAsync(cancellationToken);
            try
            {
                await using var scope = services.CreateAsyncScope();
                return await command(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<RevocationService>());
            }
            finally
            {
                await audit.StopAsync(CancellationToken.None);
            }
        }, cancellationToken);
}
