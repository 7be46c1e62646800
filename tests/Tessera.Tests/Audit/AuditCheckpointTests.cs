using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Audit;

/// <summary>
/// Signed checkpoints of the chain's head: when they are made, that several nodes make one per head, that none is made
/// over a chain that does not verify, how they are published, and that they verify, as an outside party checks them,
/// against the keys and issuer of discovery.
/// </summary>
public sealed class AuditCheckpointTests
{
    private static Task<List<AuditCheckpointRecord>> CheckpointsAsync(TesseraTestServer server) =>
        server.WithDbAsync(db => db.AuditCheckpoints.AsNoTracking().OrderBy(c => c.HeadId).ToListAsync());

    /// <summary>The discovery document of the in-process server and the keys it names, as IdentityModel fetches them.</summary>
    private static ConfigurationManager<OpenIdConnectConfiguration> Discovery(TesseraTestServer server, HttpClient http) =>
        new(new Uri(server.BaseAddress, ".well-known/openid-configuration").AbsoluteUri, new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http) { RequireHttps = false });

    [Fact]
    public async Task A_checkpoint_is_signed_once_CheckpointEvery_rows_were_added()
    {
        await using var server = await TesseraTestServer.StartAsync(options => options.Audit.CheckpointEvery = 5);
        var rows = await AuditActivity.WriteRowsAsync(server, requests: 6);

        var deadline = DateTime.UtcNow.AddSeconds(15);
        var checkpoints = await CheckpointsAsync(server);
        while (checkpoints.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            checkpoints = await CheckpointsAsync(server);
        }

        var checkpoint = Assert.Single(checkpoints);
        var head = rows.Single(r => r.Id == checkpoint.HeadId);
        Assert.Equal(head.Hash, checkpoint.HeadHash);
        Assert.Equal(rows.Count(r => r.Id <= head.Id), checkpoint.Count);
        Assert.True(checkpoint.Count >= 5);
    }

    [Fact]
    public async Task A_checkpoint_is_signed_once_the_oldest_row_it_would_cover_is_CheckpointInterval_old_and_only_when_rows_were_added()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TesseraTestServer.StartAsync(options => options.Audit.CheckpointInterval = TimeSpan.FromMinutes(5), time);
        var writer = server.Service<AuditCheckpointWriter>();
        await AuditActivity.WriteRowsAsync(server, requests: 2);

        var early = await writer.CheckpointAsync(force: false, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(5));
        var due = await writer.CheckpointAsync(force: false, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(30));
        var idle = await writer.CheckpointAsync(force: false, CancellationToken.None);

        Assert.Null(early);
        Assert.NotNull(due);
        Assert.Null(idle);
        Assert.Single(await CheckpointsAsync(server));
    }

    [Fact]
    public async Task Checkpoints_verify_against_the_keys_and_issuer_that_discovery_names_and_chain_to_each_other()
    {
        await using var server = await TesseraTestServer.StartAsync();
        var tokens = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            await AuditActivity.WriteRowsAsync(server, requests: 3);
            tokens.Add((await AuditActivity.CheckpointAsync(server))!.Token);
        }

        var rows = await server.AuditAsync();
        using var http = server.CreateClient();
        var discovery = await Discovery(server, http).GetConfigurationAsync(CancellationToken.None);
        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        var previous = new string('0', 64);
        foreach (var token in tokens)
        {
            var result = await handler.ValidateTokenAsync(token, new TokenValidationParameters
            {
                ValidIssuer = discovery.Issuer,
                IssuerSigningKeys = discovery.SigningKeys,
                ValidTypes = ["audit-checkpoint+jwt"],
                ValidAlgorithms = ["ES256"],
                ValidateAudience = false,
                ValidateLifetime = false,
                RequireExpirationTime = false,
            });

            Assert.True(result.IsValid, result.Exception?.Message);
            var jwt = (JsonWebToken)result.SecurityToken;
            Assert.Equal(await server.DiscoveredIssuerAsync(), jwt.Issuer);
            Assert.Equal(server.Keys.SigningCredentials("ES256").Key.KeyId, jwt.Kid);
            var headId = jwt.GetPayloadValue<long>("head_id");
            Assert.Equal(rows.Single(r => r.Id == headId).Hash, jwt.GetPayloadValue<string>("head_hash"));
            Assert.Equal(rows.Count(r => r.Id <= headId), jwt.GetPayloadValue<long>("count"));
            Assert.Equal(previous, jwt.GetPayloadValue<string>("previous_checkpoint"));
            Assert.True(jwt.TryGetPayloadValue<long>("iat", out _));
            Assert.False(jwt.TryGetPayloadValue<long>("exp", out _));
            previous = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token)));
        }
    }

    [Fact]
    public async Task The_checkpoints_are_public_oldest_first_in_pages_and_the_latest_is_the_newest_JWS()
    {
        await using var server = await TesseraTestServer.StartAsync();
        using var http = server.CreateClient();

        var none = await http.GetAsync("audit/checkpoints/latest");
        var empty = JsonDocument.Parse(await http.GetStringAsync("audit/checkpoints"));
        var made = new List<AuditCheckpointRecord>();
        for (var i = 0; i < 3; i++)
        {
            await AuditActivity.WriteRowsAsync(server, requests: 2);
            made.Add((await AuditActivity.CheckpointAsync(server))!);
        }

        var all = await http.GetAsync("audit/checkpoints");
        var first = JsonDocument.Parse(await http.GetStringAsync("audit/checkpoints?limit=2")).RootElement;
        var second = JsonDocument.Parse(await http.GetStringAsync($"audit/checkpoints?limit=2&after={first.GetProperty("next").GetString()}")).RootElement;
        var latest = await http.GetAsync("audit/checkpoints/latest");
        var after = JsonDocument.Parse(await http.GetStringAsync($"audit/checkpoints?after={made[1].Count}")).RootElement;

        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Equal(0, empty.RootElement.GetProperty("checkpoints").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal("*", all.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(made.Select(c => c.Token), JsonDocument.Parse(await all.Content.ReadAsStringAsync()).RootElement.GetProperty("checkpoints").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(made.Take(2).Select(c => c.Token), first.GetProperty("checkpoints").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(made[1].Count.ToString(System.Globalization.CultureInfo.InvariantCulture), first.GetProperty("next").GetString());
        Assert.Equal([made[2].Token], second.GetProperty("checkpoints").EnumerateArray().Select(t => t.GetString()));
        Assert.False(second.TryGetProperty("next", out _));
        Assert.Equal(made[2].Token, await latest.Content.ReadAsStringAsync());
        Assert.Equal("application/audit-checkpoint+jwt", latest.Content.Headers.ContentType!.MediaType);
        Assert.Equal([made[2].Token], after.GetProperty("checkpoints").EnumerateArray().Select(t => t.GetString()));
    }

    public static TheoryData<string, string> BadPages => new()
    {
        { "audit/checkpoints?after=-1", "after must be a row count" },
        { "audit/checkpoints?after=ten", "after must be a row count" },
        { "audit/checkpoints?after=1&after=2", "after must be a row count" },
        { "audit/checkpoints?limit=0", "limit must be a number from 1 to 1000" },
        { "audit/checkpoints?limit=1001", "limit must be a number from 1 to 1000" },
    };

    [Theory]
    [MemberData(nameof(BadPages))]
    public async Task A_malformed_page_request_is_answered_400_with_why(string path, string why)
    {
        await using var server = await TesseraTestServer.StartAsync();
        using var http = server.CreateClient();

        var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(why, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_nodes_racing_sign_one_checkpoint_per_head_and_keep_one_chain_of_checkpoints()
    {
        var database = await TestDatabase.CreateAsync();
        await using var _ = database;
        var keys = new KeyOptions { EncryptionKey = KeyEncryptionKey.Generate() };
        await using var a = await TesseraTestServer.StartAsync(options => options.Keys = keys, database: database, keepDatabase: true);
        await using var b = await TesseraTestServer.StartAsync(options => options.Keys = keys, database: database, keepDatabase: true);

        for (var round = 0; round < 3; round++)
        {
            await AuditActivity.WriteRowsAsync(round % 2 == 0 ? a : b, requests: 2);
            await b.Service<AuditLog>().FlushAsync();
            var writers = new[] { a, b, a, b, a, b }.Select(node => node.Service<AuditCheckpointWriter>());
            var made = await Task.WhenAll(writers.Select(w => Task.Run(() => w.CheckpointAsync(force: true, CancellationToken.None))));
            Assert.True(made.Count(m => m is not null) <= 1);
        }

        var checkpoints = await CheckpointsAsync(a);
        Assert.Equal(checkpoints.Count, checkpoints.Select(c => c.HeadId).Distinct().Count());
        var verified = await AuditCheckpointVerifier.VerifyAsync(checkpoints.Select(c => c.Token),
            AuditCheckpointVerifier.Known(a.Service<TesseraIssuer>().Name, a.Keys.VerificationKeys()), CancellationToken.None);
        Assert.True(verified.Trusted, verified.Problem);
    }

    /// <summary>
    /// Rows arrive while a node walks the chain; another node walks further and signs first. The first node must then
    /// sign nothing: a second checkpoint naming the same predecessor would fork the chain of checkpoints. On SQLite the
    /// walk runs before the write transaction, so only this check, inside it, stands between the two.
    /// </summary>
    [Fact]
    public async Task A_node_whose_walk_was_overtaken_by_another_nodes_checkpoint_signs_nothing()
    {
        var database = await TestDatabase.CreateAsync();
        await using var _ = database;
        var keys = new KeyOptions { EncryptionKey = KeyEncryptionKey.Generate() };
        await using var a = await TesseraTestServer.StartAsync(options => options.Keys = keys, database: database, keepDatabase: true);
        await using var b = await TesseraTestServer.StartAsync(options => options.Keys = keys, database: database, keepDatabase: true);
        await AuditActivity.WriteRowsAsync(a, requests: 2); // stored when it returns, so there is a head to sign
        var first = await AuditActivity.CheckpointAsync(a);
        Assert.NotNull(first);

        await AuditActivity.WriteRowsAsync(a, requests: 2);
        var writer = a.Service<AuditCheckpointWriter>();
        var walk = (await a.WithDbAsync(db => writer.WalkAsync(db, CancellationToken.None)))!;
        Assert.Equal(first.HeadId, walk.Last?.HeadId);

        await AuditActivity.WriteRowsAsync(b, requests: 2);
        await b.Service<AuditLog>().FlushAsync();
        var overtaking = await AuditActivity.CheckpointAsync(b);
        Assert.True(overtaking is not null && overtaking.HeadId > walk.HeadId, "the other node walked further and signed");

        Assert.Null(await a.WithDbAsync(db => writer.SignAsync(db, null, walk, CancellationToken.None)));
        var next = await AuditActivity.CheckpointAsync(a);
        Assert.Null(next); // nothing was added since the other node's checkpoint

        var checkpoints = await CheckpointsAsync(a);
        Assert.Equal([first.HeadId, overtaking.HeadId], checkpoints.Select(c => c.HeadId));
        var verified = await AuditCheckpointVerifier.VerifyAsync(checkpoints.Select(c => c.Token),
            AuditCheckpointVerifier.Known(a.Service<TesseraIssuer>().Name, a.Keys.VerificationKeys()), CancellationToken.None);
        Assert.True(verified.Trusted, verified.Problem);
    }

    [Fact]
    public async Task Two_nodes_appending_at_once_write_one_linear_chain_that_verifies()
    {
        var (a, b, database) = await Nodes.TwoAsync();
        await using var _ = database;
        await using var nodeA = a;
        await using var nodeB = b;

        // Both nodes issue tokens at the same time, so both writers append batches that interleave.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => AuditActivity.WriteRowsAsync(i % 2 == 0 ? a : b, requests: 15)));
        await a.Service<AuditLog>().FlushAsync();
        await b.Service<AuditLog>().FlushAsync();

        var verified = await a.WithDbAsync(db => AuditChainVerifier.VerifyAsync(AuditRows.ReadAsync(db), []));
        var rows = await a.AuditAsync();
        Assert.True(verified.Intact, verified.Break?.ToString());
        Assert.Equal(rows.Count, verified.Count);
        Assert.Equal(8 * 10, rows.Count(r => r.Event == AuditEvents.TokenIssued)); // two in three requests have the right secret
        Assert.All(rows.Skip(1).Zip(rows), pair => Assert.Equal(pair.Second.Hash, pair.First.PreviousHash)); // each row follows the one before it, whichever node wrote either
    }

    [Fact]
    public async Task No_checkpoint_is_signed_over_rows_that_do_not_verify()
    {
        await using var server = await TesseraTestServer.StartAsync();
        await AuditActivity.WriteRowsAsync(server, requests: 3);
        Assert.NotNull(await AuditActivity.CheckpointAsync(server));
        var rows = await AuditActivity.WriteRowsAsync(server, requests: 3);
        var tamper = new AuditTampering(server);
        await tamper.DisableAppendOnlyAsync();
        await tamper.EditReasonAsync(rows[^2].Id, "nothing happened");

        var refused = await AuditActivity.CheckpointAsync(server);

        Assert.Null(refused);
        Assert.Single(await CheckpointsAsync(server));
        Assert.Contains(server.Logs.Lines, l => l.StartsWith("Critical", StringComparison.Ordinal) && l.Contains($"row {rows[^2].Id}: its hash does not match its content", StringComparison.Ordinal));
    }

    /// <summary>A checkpoint appended after the real ones, as a forger would make it.</summary>
    private sealed record Forgery(Func<SigningCredentials, SigningCredentials> Credentials, string? Type = null, string? Issuer = null);

    public static TheoryData<string, string> HostileLists => new()
    {
        // what the list holds, what the verifier must answer
        { "a checkpoint signed by a key the issuer never published", "its key is not in the issuer's key set" },
        { "a checkpoint signed by another key under the issuer's kid", "its signature does not verify" },
        { "a checkpoint without a signature (alg none)", "it is not signed (alg none)" },
        { "a checkpoint signed with the issuer's RS256 key", "it is signed with RS256, not ES256" },
        { "a checkpoint typed as a plain JWT", "its typ is not audit-checkpoint+jwt" },
        { "a checkpoint from another issuer", "its iss is not the issuer that discovery names" },
        { "a checkpoint left out of the middle of the list", "its previous_checkpoint is not that checkpoint's hash" },
        { "a checkpoint spliced in that names the wrong predecessor", "its previous_checkpoint is not that checkpoint's hash" },
        { "a later checkpoint that counts fewer rows", "contradict each other" },
        { "a checkpoint without head_hash", "'head_hash' is not a SHA-256 hash in hex" },
    };

    [Theory]
    [MemberData(nameof(HostileLists))]
    public async Task A_hostile_list_of_checkpoints_is_refused(string list, string answer)
    {
        await using var server = await TesseraTestServer.StartAsync();
        var real = new List<AuditCheckpointRecord>();
        for (var i = 0; i < 3; i++)
        {
            await AuditActivity.WriteRowsAsync(server, requests: 2);
            real.Add((await AuditActivity.CheckpointAsync(server))!);
        }

        var issuer = server.Service<TesseraIssuer>().Name;
        var es256 = server.Keys.SigningCredentials("ES256");
        var last = real[^1];
        string Next(SigningCredentials? credentials, string type = "audit-checkpoint+jwt", string? iss = null, string? previous = null, long? count = null, bool headHash = true)
        {
            var claims = new Dictionary<string, object>
            {
                ["count"] = count ?? last.Count + 1,
                ["head_id"] = last.HeadId + 1,
                ["previous_checkpoint"] = previous ?? AuditCheckpoint.HashOf(last.Token),
            };
            if (headHash)
            {
                claims["head_hash"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            }

            return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = iss ?? issuer,
                IssuedAt = DateTime.UtcNow,
                TokenType = type,
                Claims = claims,
                SigningCredentials = credentials,
            });
        }

        var stranger = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "never-published" };
        var impostor = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = es256.Key.KeyId };
        var tokens = real.Select(c => c.Token).ToList();
        switch (list)
        {
            case "a checkpoint signed by a key the issuer never published":
                tokens.Add(Next(new SigningCredentials(stranger, SecurityAlgorithms.EcdsaSha256)));
                break;
            case "a checkpoint signed by another key under the issuer's kid":
                tokens.Add(Next(new SigningCredentials(impostor, SecurityAlgorithms.EcdsaSha256)));
                break;
            case "a checkpoint without a signature (alg none)":
                tokens.Add(Next(null));
                break;
            case "a checkpoint signed with the issuer's RS256 key":
                tokens.Add(Next(server.Keys.SigningCredentials("RS256")));
                break;
            case "a checkpoint typed as a plain JWT":
                tokens.Add(Next(es256, type: "JWT"));
                break;
            case "a checkpoint from another issuer":
                tokens.Add(Next(es256, iss: "https://tessera.attacker.example/"));
                break;
            case "a checkpoint left out of the middle of the list":
                tokens.RemoveAt(1);
                break;
            case "a checkpoint spliced in that names the wrong predecessor":
                tokens.Add(Next(es256, previous: AuditCheckpoint.HashOf(real[0].Token)));
                break;
            case "a later checkpoint that counts fewer rows":
                tokens.Add(Next(es256, count: last.Count - 1));
                break;
            case "a checkpoint without head_hash":
                tokens.Add(Next(es256, headHash: false));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(list), list, null);
        }

        using var http = server.CreateClient();
        var verified = await AuditCheckpointVerifier.VerifyAsync(tokens, AuditCheckpointVerifier.Discovered(Discovery(server, http)), CancellationToken.None);
        var genuine = await AuditCheckpointVerifier.VerifyAsync(real.Select(c => c.Token), AuditCheckpointVerifier.Discovered(Discovery(server, http)), CancellationToken.None);

        Assert.True(genuine.Trusted, genuine.Problem);
        Assert.False(verified.Trusted);
        Assert.Contains(answer, verified.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checkpoint_whose_key_left_the_key_set_is_trusted_through_a_later_one_that_chains_to_it()
    {
        await using var server = await TesseraTestServer.StartAsync();
        await AuditActivity.WriteRowsAsync(server, requests: 2);
        var old = (await AuditActivity.CheckpointAsync(server))!;
        await server.Keys.RotateAsync(immediate: true, CancellationToken.None);
        await AuditActivity.WriteRowsAsync(server, requests: 2);
        var current = (await AuditActivity.CheckpointAsync(server))!;
        var oldKid = new JsonWebToken(old.Token).Kid;
        Assert.NotEqual(oldKid, new JsonWebToken(current.Token).Kid);

        // Every key but the one that signed the older checkpoint: as after that key retired and left the key set.
        var others = server.Keys.VerificationKeys().Where(k => k.KeyId != oldKid).ToList();
        var issuer = server.Service<TesseraIssuer>().Name;
        var alone = await AuditCheckpointVerifier.VerifyAsync([old.Token], AuditCheckpointVerifier.Known(issuer, others), CancellationToken.None);
        var vouched = await AuditCheckpointVerifier.VerifyAsync([old.Token, current.Token], AuditCheckpointVerifier.Known(issuer, others), CancellationToken.None);

        Assert.False(alone.Trusted);
        Assert.Contains("its key is not in the issuer's key set", alone.Problem, StringComparison.Ordinal);
        Assert.True(vouched.Trusted, vouched.Problem);
        Assert.Equal(2, vouched.Checkpoints.Count);
        Assert.Equal(1, vouched.SignaturesVerified);
    }
}
