using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Audit;

public sealed class AuditLogTests
{
    [Fact]
    public async Task Rows_form_one_hash_chain_that_detects_any_edit()
    {
        await using var server = await TesseraTestServer.StartAsync();
        using var http = server.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, i % 2 == 0 ? TestConfiguration.ServiceSecret : "wrong-secret-0123456789");
        }

        var rows = await server.AuditAsync();

        Assert.True(rows.Count >= 6);
        Assert.Equal(AuditChain.Genesis, rows[0].PreviousHash);
        Assert.Null(AuditChain.FindFirstBreak(rows));
        var tampered = rows.Select(r => new AuditRecord
        {
            Id = r.Id,
            OccurredAt = r.OccurredAt,
            Event = r.Event,
            Outcome = r.Outcome,
            ClientId = r.ClientId,
            IpAddress = r.IpAddress,
            UserAgent = r.UserAgent,
            Reason = r.Reason,
            Detail = r.Detail,
            OrganizationId = r.OrganizationId,
            UserId = r.UserId,
            ConnectionId = r.ConnectionId,
            PreviousHash = r.PreviousHash,
            Hash = r.Hash,
        }).ToList();
        tampered[3].Outcome = tampered[3].Outcome == "success" ? "failure" : "success";
        Assert.Equal(tampered[3].Id, AuditChain.FindFirstBreak(tampered));
        Assert.Equal(rows[4].Id, AuditChain.FindFirstBreak(rows.Where((_, i) => i != 3)));
    }

    [Fact]
    public async Task The_database_refuses_to_change_or_delete_audit_rows()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var rows = await server.AuditAsync();
        Assert.NotEmpty(rows);

        await Assert.ThrowsAnyAsync<Exception>(() => server.WithDbAsync(db => db.AuditEvents.ExecuteUpdateAsync(a => a.SetProperty(x => x.Outcome, "edited"))));
        await Assert.ThrowsAnyAsync<Exception>(() => server.WithDbAsync(db => db.AuditEvents.ExecuteDeleteAsync()));

        var after = await server.AuditAsync();
        Assert.Equal(rows.Select(r => (r.Id, r.Hash, r.Outcome)), after.Select(r => (r.Id, r.Hash, r.Outcome)));
    }

    [Fact]
    public async Task Concurrent_writers_still_make_one_unbroken_chain()
    {
        await using var server = await TesseraTestServer.StartAsync();
        using var http = server.CreateClient();

        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret)));

        var rows = await server.AuditAsync();
        Assert.Equal(40, rows.Count(r => r.Event == "token.issued"));
        Assert.Null(AuditChain.FindFirstBreak(rows));
        Assert.Equal(rows.Count, rows.Select(r => r.PreviousHash).Distinct().Count());
    }

    [Fact]
    public async Task Each_row_records_time_event_client_address_agent_and_outcome()
    {
        await using var server = await TesseraTestServer.StartAsync();
        using var http = server.CreateClient();
        http.DefaultRequestHeaders.UserAgent.ParseAdd("AuditProbe/2.0");

        await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, "wrong-secret-0123456789");

        var row = Assert.Single(await server.AuditAsync(), a => a.Event == "token.refused");
        Assert.Equal("failure", row.Outcome);
        Assert.Equal(TestConfiguration.ServiceClient, row.ClientId);
        Assert.Equal("AuditProbe/2.0", row.UserAgent);
        Assert.StartsWith("invalid_client", row.Reason, StringComparison.Ordinal);
        Assert.InRange(row.OccurredAt, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Rows_are_stored_with_every_character_and_read_back_as_they_were_hashed()
    {
        // The writer binds values on SQLite's own handle: what it stores must read back through EF Core as recorded, so
        // that every row's hash still verifies. Non-ASCII, controls, quotes, nulls, and details larger than its buffer.
        await using var server = await TesseraTestServer.StartAsync();
        var audit = server.Service<AuditLog>();
        string[] texts = ["caf\u00e9 \u4e2d\ud83d\ude00", "quote \" back\\slash\nline\u0001\t", new string('\u00df', 3000), "", "plain"];
        for (var i = 0; i < texts.Length; i++)
        {
            audit.Record(new AuditEvent("probe.stored", AuditEvent.Success)
            {
                OrganizationId = i % 2 == 0 ? texts[i][..Math.Min(texts[i].Length, 50)] : null,
                UserAgent = texts[i][..Math.Min(texts[i].Length, 512)],
                Reason = texts[(i + 1) % texts.Length][..Math.Min(texts[(i + 1) % texts.Length].Length, 500)],
                Detail = new Dictionary<string, string?> { ["text"] = texts[i] + new string('\u20ac', 2000 * i), ["none"] = null },
            });
        }

        var rows = await server.AuditAsync();
        var stored = rows.Where(r => r.Event == "probe.stored").ToList();
        Assert.Equal(texts.Length, stored.Count);
        Assert.Null(AuditChain.FindFirstBreak(rows));
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(texts[i][..Math.Min(texts[i].Length, 512)], stored[i].UserAgent);
            Assert.Equal(i % 2 == 0 ? texts[i][..Math.Min(texts[i].Length, 50)] : null, stored[i].OrganizationId);
            Assert.Null(stored[i].UserId);
            var detail = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string?>>(stored[i].Detail!)!;
            Assert.Equal(texts[i] + new string('\u20ac', 2000 * i), detail["text"]);
            Assert.Equal(AuditChain.Compute(stored[i]), stored[i].Hash);
        }
    }

    [Fact]
    public void The_hash_covers_the_canonical_array_that_docs_audit_md_describes()
    {
        // Outside parties recompute hashes from an export with these rules; this pins them.
        var row = new AuditRecord
        {
            OccurredAt = new DateTime(2026, 12, 6, 4, 18, 24, DateTimeKind.Utc).AddTicks(728850),
            Event = "signin.failed",
            Outcome = "failure",
            OrganizationId = "st-marys",
            ClientId = "reports-web",
            IpAddress = "203.0.113.7",
            Reason = "caf\u00e9 <b>&'+` \"x\"\\\n\u0001\t\b\f\r",
            PreviousHash = AuditChain.Genesis,
        };
        const string Canonical = """["0000000000000000000000000000000000000000000000000000000000000000","2026-12-06T04:18:24.0728850Z","signin.failed","failure","st-marys",null,"reports-web",null,"203.0.113.7",null,"caf\u00E9 \u003Cb\u003E\u0026\u0027\u002B\u0060 \u0022x\u0022\\\n\u0001\t\b\f\r",null]""";

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Canonical))), AuditChain.Compute(row));
    }

    [Fact]
    public void The_hash_is_of_the_array_as_JsonSerializer_writes_it_whatever_the_strings_hold()
    {
        // Compute writes the array itself; what it hashes must be byte for byte what JsonSerializer writes for the
        // same array, for any content: ASCII controls, HTML-sensitive characters, non-ASCII, surrogate pairs, and a
        // detail large enough that the writer's buffer is not kept, followed by a small row on the same thread.
        var random = new Random(20261207);
        const string Pool = "aZ09 \"\\/\n\r\t\b\f\u0000\u0001\u001f\u007f<>&'+`\u00e9\u00df\u4e2d\u2028\u2029\ud83d\ude00\ufeff";
        string? Text(int length) => random.Next(5) == 0 ? null
            : string.Concat(Enumerable.Range(0, random.Next(length)).Select(_ => Pool[random.Next(Pool.Length)]));
        for (var i = 0; i < 300; i++)
        {
            var row = new AuditRecord
            {
                OccurredAt = new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc).AddTicks(random.NextInt64(TimeSpan.TicksPerDay * 400)),
                Event = Text(30) ?? "token.issued",
                Outcome = Text(10) ?? "success",
                OrganizationId = Text(20),
                UserId = Text(40),
                ClientId = Text(20),
                ConnectionId = Text(20),
                IpAddress = Text(20),
                UserAgent = Text(100),
                Reason = Text(60),
                Detail = i == 150 ? new string('x', 200_000) + "\u00e9" : Text(80),
                PreviousHash = i == 0 ? AuditChain.Genesis : Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())),
            };
            var canonical = System.Text.Json.JsonSerializer.Serialize(new object?[]
            {
                row.PreviousHash, AuditChain.Timestamp(row.OccurredAt), row.Event, row.Outcome, row.OrganizationId, row.UserId,
                row.ClientId, row.ConnectionId, row.IpAddress, row.UserAgent, row.Reason, row.Detail,
            });

            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical))), AuditChain.Compute(row));
        }
    }
}
