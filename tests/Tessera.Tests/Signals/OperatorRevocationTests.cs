using Tessera.Hosting;
using Tessera.Tests.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Signals;

/// <summary>
/// An operator's <c>tessera users disable | enable</c> and <c>tessera sessions end</c>, run as separate commands against
/// the running server's database: the same revocation, and the running server sends the signals.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class OperatorRevocationTests
{
    [Fact]
    public async Task Ending_a_session_on_the_command_line_logs_both_apps_out_and_tells_the_API()
    {
        await using var x = await SignalArrangement.StartAsync();
        using var browser = x.Server.CreateBrowser();
        var (userId, sid, reports, billing) = await x.SignInToBothAppsAsync(browser);
        var file = ConfigurationFile.Write(x.Server.Options);

        var (exit, output, _) = await CommandLine.RunAsync("sessions", "end", "--config", file, sid, "--reason", "laptop reported stolen");

        Assert.Equal(0, exit);
        Assert.Contains(sid, output, StringComparison.Ordinal);
        Assert.Equal(sid, (await x.Reports.WaitForAsync(1)).Single().Jwt.GetClaim("sid").Value);
        Assert.Equal(sid, (await x.Billing.WaitForAsync(1)).Single().Jwt.GetClaim("sid").Value);
        var set = (await x.Api.WaitForAsync(1)).Single().Jwt;
        var revoked = SecurityEventTokenTests.Event(set, SecurityEventTokenTests.SessionRevoked);
        Assert.Equal("admin", revoked.GetProperty("initiating_entity").GetString());
        Assert.Equal("laptop reported stolen", revoked.GetProperty("reason_admin").GetProperty("en").GetString());
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(x.Http, TestConfiguration.PublicClient, null, reports["refresh_token"]!)).Error);
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(x.Http, TestConfiguration.WebClient, TestConfiguration.WebSecret, billing["refresh_token"]!)).Error);
        var audit = await x.Server.AuditAsync();
        Assert.Contains(audit, a => a.Event == "session.ended" && a.UserId == userId && a.Reason == "laptop reported stolen");

        var (again, _, error) = await CommandLine.RunAsync("sessions", "end", "--config", file, sid);
        Assert.Equal(1, again);
        Assert.Contains("No live session", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabling_and_enabling_a_user_on_the_command_line_signals_both()
    {
        await using var x = await SignalArrangement.StartAsync();
        using var browser = x.Server.CreateBrowser();
        var (userId, _, reports, _) = await x.SignInToBothAppsAsync(browser);
        var file = ConfigurationFile.Write(x.Server.Options);

        var (disabled, output, _) = await CommandLine.RunAsync("users", "disable", "--config", file, userId);
        Assert.Equal(0, disabled);
        Assert.Contains("1 session(s) ended", output, StringComparison.Ordinal);
        await x.Reports.WaitForAsync(1);
        await x.Billing.WaitForAsync(1);
        Assert.Equal("invalid_grant", (await Oauth.RefreshAsync(x.Http, TestConfiguration.PublicClient, null, reports["refresh_token"]!)).Error);

        var (enabled, _, _) = await CommandLine.RunAsync("users", "enable", "--config", file, userId);
        Assert.Equal(0, enabled);
        var received = await x.Api.WaitForAsync(3);
        Assert.Equal(
            [SecurityEventTokenTests.SessionRevoked, SecurityEventTokenTests.AccountDisabled, SecurityEventTokenTests.AccountEnabled],
            received.Select(r => SecurityEventTokenTests.EventType(r.Jwt)));

        Assert.Equal(1, (await CommandLine.RunAsync("users", "disable", "--config", file, Guid.NewGuid().ToString())).Exit);
        Assert.Equal(1, (await CommandLine.RunAsync("users", "disable", "--config", file, "not-a-user-id")).Exit);
    }
}
