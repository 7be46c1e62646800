using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Hosting;

/// <summary>
/// <c>tessera audit verify | export | list</c>: checking the hash chain and the signed checkpoints, exporting rows for
/// a SIEM or an auditor, and reading recent rows, all straight from the database.
/// </summary>
internal static class AuditCommands
{
    /// <summary>The chain or the checkpoints do not hold.</summary>
    public const int Broken = 1;

    /// <summary>The checkpoints or the keys to check them could not be fetched or read.</summary>
    public const int Unavailable = 3;

    private const int DefaultListLimit = 50;
    private const int MaxListLimit = 10_000;

    public static Command Create(Option<string> configOption)
    {
        var checkpointsOption = new Option<string?>("--checkpoints")
        {
            Description = "Checkpoints to hold the chain against instead of those in the database: a Tessera's /audit/checkpoints URL, or a file of them.",
        };
        var issuerOption = new Option<string?>("--issuer") { Description = "The Tessera whose discovery document names the keys and issuer of the checkpoints (default: the URL's, or the configured Issuer for a file)." };
        var verify = new Command("verify", "Walk the audit chain and check it against the signed checkpoints; exit 1 naming the first row that breaks it.") { configOption, checkpointsOption, issuerOption };
        verify.SetAction((result, cancellationToken) => VerifyAsync(result.GetValue(configOption)!, result.GetValue(checkpointsOption), result.GetValue(issuerOption), cancellationToken));

        var sinceOption = TimeOption("--since", "Rows at or after this time (ISO 8601; UTC unless an offset is given).");
        var untilOption = TimeOption("--until", "Rows before this time.");
        var formatOption = new Option<string>("--format") { Description = "jsonl (every column) or ocsf (OCSF 1.x events).", DefaultValueFactory = _ => AuditExport.Jsonl };
        formatOption.AcceptOnlyFromAmong([.. AuditExport.Formats]);
        var outputOption = new Option<string?>("--output", "-o") { Description = "File to write (default: standard output)." };
        var export = new Command("export", "Write audit rows, one JSON object per line, oldest first.") { configOption, sinceOption, untilOption, formatOption, outputOption };
        export.SetAction((result, cancellationToken) => ExportAsync(result.GetValue(configOption)!, result.GetValue(sinceOption), result.GetValue(untilOption),
            result.GetValue(formatOption)!, result.GetValue(outputOption), cancellationToken));

        var eventOption = new Option<string?>("--event") { Description = "Only this event, e.g. signin.failed." };
        var organizationOption = new Option<string?>("--organization") { Description = "Only this organization's rows." };
        var userOption = new Option<string?>("--user") { Description = "Only this user's rows (the sub of their tokens)." };
        var limitOption = new Option<int>("--limit") { Description = $"How many of the newest matching rows (at most {MaxListLimit}).", DefaultValueFactory = _ => DefaultListLimit };
        limitOption.Validators.Add(result =>
        {
            if (result.GetValue(limitOption) is < 1 or > MaxListLimit)
            {
                result.AddError($"--limit: from 1 to {MaxListLimit}");
            }
        });
        var list = new Command("list", "Show the newest audit rows that match, oldest of them first.")
        {
            configOption, sinceOption, untilOption, eventOption, organizationOption, userOption, limitOption,
        };
        list.SetAction((result, cancellationToken) => ListAsync(result.GetValue(configOption)!, new Filter(result.GetValue(sinceOption), result.GetValue(untilOption),
            result.GetValue(eventOption), result.GetValue(organizationOption), result.GetValue(userOption)), result.GetValue(limitOption), cancellationToken));

        return new Command("audit", "The audit log: verify, export, list.") { verify, export, list };
    }

    private static Option<DateTimeOffset?> TimeOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                return time;
            }

            result.AddError($"{name}: '{text}' is not a time (e.g. 2026-12-01 or 2026-12-01T08:00:00Z)");
            return null;
        },
    };

    private sealed record Filter(DateTimeOffset? Since, DateTimeOffset? Until, string? Event = null, string? Organization = null, string? User = null)
    {
        public IQueryable<AuditRecord> Apply(IQueryable<AuditRecord> rows)
        {
            if (Since is { } since)
            {
                var from = since.UtcDateTime;
                rows = rows.Where(a => a.OccurredAt >= from);
            }

            if (Until is { } until)
            {
                var to = until.UtcDateTime;
                rows = rows.Where(a => a.OccurredAt < to);
            }

            if (Event is not null)
            {
                rows = rows.Where(a => a.Event == Event);
            }

            if (Organization is not null)
            {
                rows = rows.Where(a => a.OrganizationId == Organization);
            }

            if (User is not null)
            {
                rows = rows.Where(a => a.UserId == User);
            }

            return rows;
        }
    }

    private static Task<int> VerifyAsync(string configFile, string? source, string? issuer, CancellationToken cancellationToken) =>
        TesseraCli.WithStorageAsync(configFile, migrate: false, async services =>
        {
            var model = services.GetRequiredService<TesseraConfiguration>().Current;
            var (checkpoints, origin, exit) = await CheckpointsAsync(services, model, source, issuer, cancellationToken);
            if (checkpoints is null)
            {
                return exit;
            }

            if (!checkpoints.Trusted)
            {
                await Console.Error.WriteLineAsync($"audit checkpoints refused ({origin}): {checkpoints.Problem}");
                return Broken;
            }

            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
            var result = await AuditChainVerifier.VerifyAsync(AuditRows.ReadAsync(db, cancellationToken: cancellationToken), checkpoints.Checkpoints, cancellationToken: cancellationToken);
            if (result.Break is { } broken)
            {
                await Console.Error.WriteLineAsync($"audit log broken: {broken}");
                if (broken.Checkpoint is not null)
                {
                    await Console.Error.WriteLineAsync($"checkpoints: {origin}");
                }

                return Broken;
            }

            Console.WriteLine("audit log intact");
            Console.WriteLine(result.Rows == 0 ? "rows: 0" : string.Create(CultureInfo.InvariantCulture, $"rows: {result.Rows} (ids {result.FirstId} to {result.HeadId})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"count: {result.Count}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"head: {(result.HeadId is { } head ? $"row {head}" : "none")}, hash {result.HeadHash}"));
            if (result.Anchor is { } anchor)
            {
                Console.WriteLine($"start: rows up to row {anchor.HeadId} were removed; the chain is verified from {AuditChainVerifier.Describe(anchor)}");
                if (model.Audit.Retention is null)
                {
                    Console.WriteLine("warning: Audit.Retention is not set, so nothing in this configuration removes rows");
                }
            }

            var newest = checkpoints.Checkpoints.Count > 0 ? checkpoints.Checkpoints[^1] : null;
            Console.WriteLine(newest is null
                ? $"checkpoints: none ({origin}); rows removed from the end would go unseen"
                : string.Create(CultureInfo.InvariantCulture, $"checkpoints: {result.CheckpointsMatched} matched, {checkpoints.Checkpoints.Count} verified ({checkpoints.SignaturesVerified} by their own signature) from {origin}; newest: {AuditChainVerifier.Describe(newest)}"));
            return 0;
        }, cancellationToken);

    /// <summary>The checkpoints to hold the chain against, verified; or null with the exit code when they cannot be had.</summary>
    private static async Task<(AuditCheckpointList? List, string Origin, int Exit)> CheckpointsAsync(IServiceProvider services, TesseraModel model, string? source, string? issuer,
        CancellationToken cancellationToken)
    {
        if (source is null)
        {
            var keys = await services.GetRequiredService<KeyRing>().ReadVerificationKeysAsync(cancellationToken);
            await using var scope = services.CreateAsyncScope();
            var tokens = await scope.ServiceProvider.GetRequiredService<TesseraDbContext>().AuditCheckpoints.AsNoTracking()
                .OrderBy(c => c.Count).Select(c => c.Token).ToListAsync(cancellationToken);
            var known = AuditCheckpointVerifier.Known(model.Issuer.Name, keys);
            return (await AuditCheckpointVerifier.VerifyAsync(tokens, known, cancellationToken), "the database, checked with the key ring", 0);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30), MaxResponseContentBufferSize = 16 * 1024 * 1024 };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("Tessera");
        var fetcher = new AuditCheckpointSource(http);
        string discovery;
        IReadOnlyList<string> fetched;
        try
        {
            if (AuditCheckpointSource.TryParseUrl(source, issuer, out var url, out discovery, out var problem))
            {
                if (problem is not null)
                {
                    await Console.Error.WriteLineAsync(problem);
                    return (null, source, Unavailable);
                }

                fetched = await fetcher.FetchAsync(url, cancellationToken);
            }
            else
            {
                discovery = AuditCheckpointSource.DiscoveryOf(issuer ?? model.Issuer.Name);
                if (AuditCheckpointSource.Insecure(new Uri(discovery)) is { } insecure)
                {
                    await Console.Error.WriteLineAsync(insecure);
                    return (null, source, Unavailable);
                }

                fetched = await AuditCheckpointSource.ReadFileAsync(source, cancellationToken);
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"could not read checkpoints from {source}: {exception.Message}");
            return (null, source, Unavailable);
        }

        var manager = fetcher.DiscoveryManager(discovery);
        try
        {
            // Fetched once up front, so an unreachable issuer is told apart from a checkpoint that does not verify.
            await manager.GetConfigurationAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"could not read the issuer's discovery document and keys at {discovery}: {exception.Message}");
            return (null, source, Unavailable);
        }

        return (await AuditCheckpointVerifier.VerifyAsync(fetched, AuditCheckpointVerifier.Discovered(manager), cancellationToken), $"{source}, checked with the keys of {discovery}", 0);
    }

    private static Task<int> ExportAsync(string configFile, DateTimeOffset? since, DateTimeOffset? until, string format, string? output, CancellationToken cancellationToken) =>
        TesseraCli.WithStorageAsync(configFile, migrate: false, async services =>
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
            var rows = AuditRows.ReadAsync(db, filter: new Filter(since, until).Apply, cancellationToken: cancellationToken);
            if (output is null)
            {
                await AuditExport.WriteAsync(rows, format, Console.Out, cancellationToken);
                return 0;
            }

            long written;
            await using (var file = new StreamWriter(output, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                written = await AuditExport.WriteAsync(rows, format, file, cancellationToken);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote {written} audit rows ({format}) to {output}."));
            return 0;
        }, cancellationToken);

    private static Task<int> ListAsync(string configFile, Filter filter, int limit, CancellationToken cancellationToken) =>
        TesseraCli.WithStorageAsync(configFile, migrate: false, async services =>
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
            var rows = await filter.Apply(db.AuditEvents.AsNoTracking()).OrderByDescending(a => a.Id).Take(limit).ToListAsync(cancellationToken);
            rows.Reverse();
            if (rows.Count == 0)
            {
                Console.WriteLine("No audit rows match.");
                return 0;
            }

            string[] headers = ["ID", "TIME", "EVENT", "OUTCOME", "ORGANIZATION", "USER", "CLIENT", "IP", "REASON"];
            var cells = rows.Select(r => new[]
            {
                r.Id.ToString(CultureInfo.InvariantCulture), r.OccurredAt.ToString("yyyy-MM-dd HH:mm:ssZ", CultureInfo.InvariantCulture), r.Event, r.Outcome,
                r.OrganizationId ?? "-", r.UserId ?? "-", r.ClientId ?? "-", r.IpAddress ?? "-", r.Reason ?? "",
            }).ToList();
            var widths = headers.Select((h, i) => Math.Max(h.Length, cells.Max(c => c[i].Length))).ToArray();
            Console.WriteLine(Line(headers, widths));
            foreach (var row in cells)
            {
                Console.WriteLine(Line(row, widths));
            }

            return 0;
        }, cancellationToken);

    /// <summary>Columns padded to their widths; the last one (the reason) is left as long as it is.</summary>
    private static string Line(string[] cells, int[] widths) =>
        string.Join(' ', cells.Select((cell, i) => i == cells.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd();
}
