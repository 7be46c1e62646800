using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Storage;
using Tessera.Tests.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Audit;

/// <summary>
/// <c>tessera audit verify</c> against a log tampered with directly in the database, the append-only trigger switched
/// off first as anyone with write access could: it exits 1 and names the first row that breaks the chain, and how.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class AuditVerifyTests
{
    [Fact]
    public async Task An_untouched_log_verifies_with_its_row_count_and_head_hash()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var rows = await AuditActivity.WriteRowsAsync(server);
        var checkpoint = await AuditActivity.CheckpointAsync(server);
        var file = ConfigurationFile.Write(server.Options);

        var (exit, output, error) = await CommandLine.RunAsync("audit", "verify", "--config", file);

        Assert.True(exit == 0, error);
        Assert.Contains("audit log intact", output, StringComparison.Ordinal);
        Assert.Contains($"rows: {rows.Count} (ids {rows[0].Id} to {rows[^1].Id})", output, StringComparison.Ordinal);
        Assert.Contains($"count: {rows.Count}", output, StringComparison.Ordinal);
        Assert.Contains($"head: row {rows[^1].Id}, hash {rows[^1].Hash}", output, StringComparison.Ordinal);
        Assert.NotNull(checkpoint);
        Assert.Contains("checkpoints: 1 matched, 1 verified (1 by their own signature)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_log_verifies()
    {
        var database = await TestDatabase.CreateAsync();
        await using var _ = database;
        var file = ConfigurationFile.Write(TestConfiguration.Create(database.Storage));
        Assert.Equal(0, (await CommandLine.RunAsync("migrate", "--config", file)).Exit);

        var (exit, output, error) = await CommandLine.RunAsync("audit", "verify", "--config", file);

        Assert.True(exit == 0, error);
        Assert.Contains("rows: 0", output, StringComparison.Ordinal);
        Assert.Contains($"hash {AuditChain.Genesis}", output, StringComparison.Ordinal);
    }

    public static TheoryData<string, AuditBreakKind> Attacks => new()
    {
        // the attack, and what verify must call it
        { "edit a reason", AuditBreakKind.Edited },
        { "edit a reason and recompute that row's hash", AuditBreakKind.Rewritten },
        { "delete a middle row", AuditBreakKind.Deleted },
        { "delete the first rows", AuditBreakKind.Deleted },
        { "delete the last rows (truncation: only the checkpoint reveals it)", AuditBreakKind.Truncated },
        { "insert a forged row with a recomputed hash in the middle", AuditBreakKind.Inserted },
        { "swap two rows", AuditBreakKind.Reordered },
        { "rewrite every row from the middle on, recomputing every hash (only the checkpoint reveals it)", AuditBreakKind.Rewritten },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Verify_names_the_first_row_a_tampering_breaks(string attack, AuditBreakKind kind)
    {
        await using var server = await TesseraTestServer.StartAsync();
        var rows = await AuditActivity.WriteRowsAsync(server);
        Assert.NotNull(await AuditActivity.CheckpointAsync(server));
        var file = ConfigurationFile.Write(server.Options);
        Assert.Equal(0, (await CommandLine.RunAsync("audit", "verify", "--config", file)).Exit);
        var tamper = new AuditTampering(server);
        await tamper.DisableAppendOnlyAsync();

        var id = rows.Select(r => r.Id).ToList();
        var expected = attack switch
        {
            "edit a reason" => await Then(tamper.EditReasonAsync(id[5], "nothing happened"), $"row {id[5]}: its hash does not match its content"),
            "edit a reason and recompute that row's hash" => await Then(tamper.EditAndRehashAsync(id[5], "nothing happened"),
                $"row {id[6]}: its previous_hash is not the hash of the row before it (row {id[5]}): row {id[5]} or row {id[6]} was rewritten"),
            "delete a middle row" => await Then(tamper.DeleteAsync(r => r == id[5]),
                $"row {id[6]}: its previous_hash is not the hash of the row before it (row {id[4]}), and the ids jump from {id[4]} to {id[6]}"),
            "delete the first rows" => await Then(tamper.DeleteAsync(r => r <= id[2]), $"the log starts at row {id[3]}"),
            "delete the last rows (truncation: only the checkpoint reveals it)" => await Then(tamper.DeleteAsync(r => r >= id[^3]),
                $"covers {rows.Count} rows up to row {id[^1]}, but the log ends at row {id[^4]} after {rows.Count - 3} rows"),
            "insert a forged row with a recomputed hash in the middle" => $"row {await tamper.InsertForgedAfterAsync(id[5])} was inserted",
            "swap two rows" => await Then(tamper.SwapAsync(id[5], id[6]),
                $"row {id[5]}: its previous_hash is not the hash of the row before it (row {id[4]}); it is the hash of row {id[6]}, which comes after it"),
            "rewrite every row from the middle on, recomputing every hash (only the checkpoint reveals it)" => await Then(tamper.RewriteFromAsync(id[5], "nothing happened"),
                $"the checkpoint of row {id[^1]} ({rows.Count} rows, signed"),
            _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, null),
        };

        var (exit, output, error) = await CommandLine.RunAsync("audit", "verify", "--config", file);

        Assert.Equal(1, exit);
        Assert.DoesNotContain("intact", output, StringComparison.Ordinal);
        Assert.StartsWith($"audit log broken: {kind.ToString().ToLowerInvariant()}: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    private static async Task<string> Then(Task tampering, string expected)
    {
        await tampering;
        return expected;
    }

    [Fact]
    public async Task Rows_removed_from_the_end_go_unseen_without_a_checkpoint_which_is_why_checkpoints_exist()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var rows = await AuditActivity.WriteRowsAsync(server);
        var file = ConfigurationFile.Write(server.Options);
        var tamper = new AuditTampering(server);
        await tamper.DisableAppendOnlyAsync();
        await tamper.DeleteAsync(r => r >= rows[^3].Id);

        var (exit, output, _) = await CommandLine.RunAsync("audit", "verify", "--config", file);

        Assert.Equal(0, exit);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"rows: {rows.Count - 3}"), output, StringComparison.Ordinal);
        Assert.Contains("checkpoints: none", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checkpoint_row_deleted_from_the_database_leaves_the_chain_verifiable_but_a_kept_copy_still_reveals_the_truncation()
    {
        // An attacker who removes the newest rows and the checkpoints that cover them fools the database's own copy;
        // a copy of the checkpoints kept outside (here: a file of what the endpoint served) does not.
        await using var server = await TesseraTestServer.StartAsync(options => options.Issuer = TesseraTestServer.LoopbackIssuer(), loopback: true);
        var rows = await AuditActivity.WriteRowsAsync(server);
        Assert.NotNull(await AuditActivity.CheckpointAsync(server));
        using var http = new HttpClient();
        var kept = Path.Combine(Path.GetTempPath(), "tessera-tests", Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(kept, await http.GetStringAsync(new Uri(server.LoopbackAddress, "audit/checkpoints")));
        var file = ConfigurationFile.Write(server.Options);

        var tamper = new AuditTampering(server);
        await tamper.DisableAppendOnlyAsync();
        await tamper.DeleteAsync(r => r >= rows[^2].Id);
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(server.IsPostgres
            ? "ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_update_delete; DELETE FROM audit_checkpoints"
            : "DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints"));

        var local = await CommandLine.RunAsync("audit", "verify", "--config", file);
        var independent = await CommandLine.RunAsync("audit", "verify", "--config", file, "--checkpoints", kept);

        Assert.Equal(0, local.Exit);
        Assert.Equal(1, independent.Exit);
        Assert.StartsWith("audit log broken: truncated: ", independent.Error, StringComparison.Ordinal);
        Assert.Contains($"covers {rows.Count} rows up to row {rows[^1].Id}", independent.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_holds_the_chain_against_the_checkpoints_a_running_Tessera_publishes_checked_with_its_discovery_keys()
    {
        await using var server = await TesseraTestServer.StartAsync(options => options.Issuer = TesseraTestServer.LoopbackIssuer(), loopback: true);
        var rows = await AuditActivity.WriteRowsAsync(server);
        Assert.NotNull(await AuditActivity.CheckpointAsync(server));
        var file = ConfigurationFile.Write(server.Options);
        var endpoint = new Uri(server.LoopbackAddress, "audit/checkpoints").AbsoluteUri;

        var intact = await CommandLine.RunAsync("audit", "verify", "--config", file, "--checkpoints", endpoint);
        var latest = await CommandLine.RunAsync("audit", "verify", "--config", file, "--checkpoints", endpoint + "/latest");
        var tamper = new AuditTampering(server);
        await tamper.DisableAppendOnlyAsync();
        await tamper.DeleteAsync(r => r >= rows[^2].Id);
        var truncated = await CommandLine.RunAsync("audit", "verify", "--config", file, "--checkpoints", endpoint);

        Assert.True(intact.Exit == 0, intact.Error);
        Assert.Contains($"checkpoints: 1 matched, 1 verified (1 by their own signature) from {endpoint}, checked with the keys of {new Uri(server.LoopbackAddress, ".well-known/openid-configuration").AbsoluteUri}", intact.Output, StringComparison.Ordinal);
        Assert.True(latest.Exit == 0, latest.Error);
        Assert.Equal(1, truncated.Exit);
        Assert.StartsWith("audit log broken: truncated: ", truncated.Error, StringComparison.Ordinal);
        Assert.Contains($"checkpoints: {endpoint}", truncated.Error, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> UnusableSources => new()
    {
        // --checkpoints, and what verify says (exit 3: nothing was checked)
        { "{server}/elsewhere", "is not a Tessera's /audit/checkpoints" },
        { "http://checkpoints.example/audit/checkpoints", "must use https unless it is on a loopback address" },
        { "http://127.0.0.1:9/audit/checkpoints", "could not read checkpoints from http://127.0.0.1:9/audit/checkpoints" },
        { "/nonexistent/checkpoints.json", "could not read checkpoints from /nonexistent/checkpoints.json" },
    };

    [Theory]
    [MemberData(nameof(UnusableSources))]
    public async Task Checkpoints_that_cannot_be_fetched_or_checked_stop_verify_with_exit_3(string source, string message)
    {
        await using var server = await TesseraTestServer.StartAsync(options => options.Issuer = TesseraTestServer.LoopbackIssuer(), loopback: true);
        var file = ConfigurationFile.Write(server.Options);

        var (exit, output, error) = await CommandLine.RunAsync("audit", "verify", "--config", file, "--checkpoints",
            source.Replace("{server}", server.LoopbackAddress.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal));

        Assert.Equal(3, exit);
        Assert.Empty(output);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
