using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Audit;
using Tessera.Storage;
using Tessera.Tests.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Audit;

/// <summary><c>tessera audit export</c> (jsonl and OCSF) and <c>tessera audit list</c>, and the OCSF mapping as a table.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AuditExportTests
{
    private static string TempFile(string extension) => Path.Combine(Path.GetTempPath(), "tessera-tests", Guid.NewGuid().ToString("N") + extension);

    [Fact]
    public async Task Jsonl_keeps_every_column_so_that_the_chain_can_be_recomputed_from_the_file_alone()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var rows = await AuditActivity.WriteRowsAsync(server, requests: 6);
        var file = ConfigurationFile.Write(server.Options);
        var output = TempFile(".jsonl");

        var (exit, message, error) = await CommandLine.RunAsync("audit", "export", "--config", file, "--format", "jsonl", "--output", output);
        var (toStdout, printed, _) = await CommandLine.RunAsync("audit", "export", "--config", file);

        Assert.True(exit == 0, error);
        Assert.Contains($"Wrote {rows.Count} audit rows (jsonl) to {output}.", message, StringComparison.Ordinal);
        var lines = await File.ReadAllLinesAsync(output);
        Assert.Equal(0, toStdout);
        Assert.Equal(lines, printed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal(rows.Count, lines.Length);
        var previous = AuditChain.Genesis;
        foreach (var (line, row) in lines.Zip(rows))
        {
            var json = JsonNode.Parse(line)!.AsObject();
            Assert.Equal(
                ["id", "occurred_at", "event", "outcome", "organization", "user", "client", "connection", "ip_address", "user_agent", "reason", "detail", "previous_hash", "hash"],
                json.Select(p => p.Key));
            var read = new AuditRecord
            {
                Id = (long)json["id"]!,
                OccurredAt = DateTime.Parse((string)json["occurred_at"]!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                Event = (string)json["event"]!,
                Outcome = (string)json["outcome"]!,
                OrganizationId = (string?)json["organization"],
                UserId = (string?)json["user"],
                ClientId = (string?)json["client"],
                ConnectionId = (string?)json["connection"],
                IpAddress = (string?)json["ip_address"],
                UserAgent = (string?)json["user_agent"],
                Reason = (string?)json["reason"],
                Detail = (string?)json["detail"],
                PreviousHash = (string)json["previous_hash"]!,
                Hash = (string)json["hash"]!,
            };
            Assert.Equal((row.Id, row.Event, row.Reason, row.Detail, row.Hash), (read.Id, read.Event, read.Reason, read.Detail, read.Hash));
            Assert.Equal(previous, read.PreviousHash);
            Assert.Equal(read.Hash, AuditChain.Compute(read));
            previous = read.Hash;
        }
    }

    [Fact]
    public async Task Since_and_until_pick_rows_by_time_since_inclusive_until_exclusive()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var rows = await AuditActivity.WriteRowsAsync(server, requests: 9);
        var file = ConfigurationFile.Write(server.Options);
        var (since, until) = (rows[3].OccurredAt, rows[^3].OccurredAt);

        var (exit, printed, error) = await CommandLine.RunAsync("audit", "export", "--config", file,
            "--since", since.ToString("O", CultureInfo.InvariantCulture), "--until", until.ToString("O", CultureInfo.InvariantCulture));

        Assert.True(exit == 0, error);
        var ids = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (long)JsonNode.Parse(l)!["id"]!);
        Assert.Equal(rows.Where(r => r.OccurredAt >= since && r.OccurredAt < until).Select(r => r.Id), ids);
    }

    [Fact]
    public async Task Ocsf_writes_one_event_per_row_with_the_row_id_and_time()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var rows = await AuditActivity.WriteRowsAsync(server, requests: 3);
        var file = ConfigurationFile.Write(server.Options);

        var (exit, printed, error) = await CommandLine.RunAsync("audit", "export", "--config", file, "--format", "ocsf");

        Assert.True(exit == 0, error);
        var events = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(rows.Count, events.Count);
        foreach (var (ocsf, row) in events.Zip(rows))
        {
            Assert.Equal(row.Id.ToString(CultureInfo.InvariantCulture), (string)ocsf["metadata"]!["uid"]!);
            Assert.Equal(new DateTimeOffset(row.OccurredAt).ToUnixTimeMilliseconds(), (long)ocsf["time"]!);
            Assert.Equal(row.Hash, (string)ocsf["unmapped"]!["hash"]!);
        }

        var refused = events.First(e => (string)e["unmapped"]!["event"]! == AuditEvents.TokenRequestRefused);
        Assert.Equal(6003, (int)refused["class_uid"]!);
        Assert.Equal(AuditEvents.TokenRequestRefused, (string)refused["api"]!["operation"]!);
        Assert.Equal(TestConfiguration.ServiceClient, (string)refused["actor"]!["app_name"]!);
        Assert.Equal(2, (int)refused["status_id"]!);
    }

    [Fact]
    public async Task An_unknown_format_or_a_time_that_is_not_one_is_refused()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var file = ConfigurationFile.Write(server.Options);

        var format = await CommandLine.RunAsync("audit", "export", "--config", file, "--format", "csv");
        var time = await CommandLine.RunAsync("audit", "export", "--config", file, "--since", "last tuesday");

        Assert.NotEqual(0, format.Exit);
        Assert.NotEqual(0, time.Exit);
        Assert.Contains("'last tuesday' is not a time", time.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_shows_the_newest_matching_rows_oldest_of_them_first()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var rows = await AuditActivity.WriteRowsAsync(server, requests: 9);
        var file = ConfigurationFile.Write(server.Options);
        var refused = rows.Where(r => r.Event == AuditEvents.TokenRequestRefused).ToList();

        var (exit, output, error) = await CommandLine.RunAsync("audit", "list", "--config", file, "--event", AuditEvents.TokenRequestRefused, "--limit", "2");
        var (_, none, _) = await CommandLine.RunAsync("audit", "list", "--config", file, "--user", Guid.NewGuid().ToString());

        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("ID", lines[0], StringComparison.Ordinal);
        Assert.Contains("EVENT", lines[0], StringComparison.Ordinal);
        Assert.Equal(refused.TakeLast(2).Select(r => r.Id.ToString(CultureInfo.InvariantCulture)), lines.Skip(1).Select(l => l.Split(' ')[0]));
        Assert.All(lines.Skip(1), l => Assert.Contains("token.refused", l, StringComparison.Ordinal));
        Assert.Contains("invalid_client", lines[1], StringComparison.Ordinal);
        Assert.Equal("No audit rows match.", none.Trim());
    }

    public static TheoryData<string, string, int, int, int> OcsfClasses => new()
    {
        // event, outcome, class_uid, activity_id, status_id
        { AuditEvents.SignInSucceeded, AuditEvent.Success, 3002, 1, 1 },
        { AuditEvents.SignInFailed, AuditEvent.Failure, 3002, 1, 2 },
        { AuditEvents.SignInStarted, AuditEvent.Success, 3002, 1, 1 },
        { AuditEvents.SessionEnded, AuditEvent.Success, 3002, 2, 1 },
        { AuditEvents.UserAccessRevoked, AuditEvent.Success, 3001, 5, 1 },
        { AuditEvents.UserEnabled, AuditEvent.Success, 3001, 2, 1 },
        { AuditEvents.TokenIssued, AuditEvent.Success, 6003, 1, 1 },
        { AuditEvents.TokenExchanged, AuditEvent.Success, 6003, 1, 1 },
        { AuditEvents.TokenRevoked, AuditEvent.Success, 6003, 4, 1 },
        { AuditEvents.TokenRequestRefused, AuditEvent.Failure, 6003, 99, 2 },
        { AuditEvents.ScimChanged, AuditEvent.Success, 6003, 3, 1 },
        { AuditEvents.AdminChanged, AuditEvent.Success, 6003, 3, 1 },
        { AuditEvents.KeysRotated, AuditEvent.Success, 6003, 1, 1 },
        { AuditEvents.RefreshTokenReuseDetected, AuditEvent.Failure, 6003, 99, 2 },
        { AuditEvents.AnomalyDetected, AuditEvent.Failure, 6003, 99, 2 },
        { "an.event.this.table.never.heard.of", "unknown", 6003, 99, 0 },
    };

    public static TheoryData<string, string, int> OcsfSeverities => new()
    {
        // event, outcome, severity_id
        { AuditEvents.TokenIssued, AuditEvent.Success, 1 },
        { AuditEvents.SignInFailed, AuditEvent.Failure, 2 },
        { AuditEvents.AnomalyDetected, AuditEvent.Failure, 3 },
        { AuditEvents.RefreshTokenReuseDetected, AuditEvent.Failure, 4 },
        { AuditEvents.AuthorizationCodeReplayDetected, AuditEvent.Failure, 4 },
    };

    [Theory]
    [MemberData(nameof(OcsfSeverities))]
    public void Detections_stand_out_by_OCSF_severity(string auditEvent, string outcome, int severityId)
    {
        var ocsf = OcsfMapping.Map(new AuditRecord { Id = 42, OccurredAt = DateTime.UtcNow, Event = auditEvent, Outcome = outcome, PreviousHash = AuditChain.Genesis, Hash = AuditChain.Genesis });

        Assert.Equal(severityId, (int)ocsf["severity_id"]!);
    }

    [Theory]
    [MemberData(nameof(OcsfClasses))]
    public void Each_event_maps_to_its_OCSF_class_activity_and_status(string auditEvent, string outcome, int classUid, int activityId, int statusId)
    {
        var ocsf = OcsfMapping.Map(new AuditRecord { Id = 42, OccurredAt = DateTime.UtcNow, Event = auditEvent, Outcome = outcome, PreviousHash = AuditChain.Genesis, Hash = AuditChain.Genesis });

        Assert.Equal(classUid, (int)ocsf["class_uid"]!);
        Assert.Equal(classUid / 1000, (int)ocsf["category_uid"]!);
        Assert.Equal(activityId, (int)ocsf["activity_id"]!);
        Assert.Equal((classUid * 100L) + activityId, (long)ocsf["type_uid"]!);
        Assert.Equal(statusId, (int)ocsf["status_id"]!);
        Assert.Equal("1.3.0", (string)ocsf["metadata"]!["version"]!);
        Assert.Equal("Tessera", (string)ocsf["metadata"]!["product"]!["name"]!);
        Assert.Equal(auditEvent, (string)ocsf["unmapped"]!["event"]!);
        if (activityId == 99)
        {
            Assert.Equal(auditEvent, (string)ocsf["activity_name"]!);
        }
    }

    [Fact]
    public void A_sign_in_is_an_OCSF_Authentication_logon_with_the_user_address_agent_and_session()
    {
        var user = Guid.NewGuid().ToString();
        var at = new DateTime(2026, 12, 6, 8, 30, 0, 123, DateTimeKind.Utc);
        var row = new AuditRecord
        {
            Id = 7001,
            OccurredAt = at,
            Event = AuditEvents.SignInSucceeded,
            Outcome = AuditEvent.Success,
            OrganizationId = "st-marys",
            UserId = user,
            ClientId = "reports-web",
            ConnectionId = "stmarys-oidc",
            IpAddress = "203.0.113.7",
            UserAgent = "Mozilla/5.0",
            Detail = JsonSerializer.Serialize(new Dictionary<string, string> { ["sid"] = "s-123" }),
            PreviousHash = AuditChain.Genesis,
            Hash = new string('a', 64),
        };

        var ocsf = OcsfMapping.Map(row);

        Assert.Equal("Authentication", (string)ocsf["class_name"]!);
        Assert.Equal("Logon", (string)ocsf["activity_name"]!);
        Assert.Equal("Success", (string)ocsf["status"]!);
        Assert.Equal(300201, (long)ocsf["type_uid"]!);
        Assert.Equal(user, (string)ocsf["user"]!["uid"]!);
        Assert.Equal("st-marys", (string)ocsf["user"]!["org"]!["uid"]!);
        Assert.Equal("203.0.113.7", (string)ocsf["src_endpoint"]!["ip"]!);
        Assert.Equal("Mozilla/5.0", (string)ocsf["http_request"]!["user_agent"]!);
        Assert.Equal("s-123", (string)ocsf["session"]!["uid"]!);
        Assert.Equal("reports-web", (string)ocsf["service"]!["name"]!);
        Assert.Equal("7001", (string)ocsf["metadata"]!["uid"]!);
        Assert.Equal(new DateTimeOffset(at).ToUnixTimeMilliseconds(), (long)ocsf["time"]!);
        Assert.Equal("stmarys-oidc", (string)ocsf["unmapped"]!["connection"]!);
    }
}
