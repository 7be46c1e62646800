using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Storage;
using Tessera.Telemetry;

namespace Tessera.Risk;

/// <summary>The failures a burst is made of.</summary>
public enum FailureKind
{
    /// <summary>A sign-in that came back from the identity provider and did not complete.</summary>
    SignIn,

    /// <summary>An <c>invalid_client</c> answer: a wrong secret, assertion or client_id.</summary>
    ClientAuthentication,

    /// <summary>A SCIM request without a valid bearer token (401).</summary>
    Scim,
}

/// <summary>
/// The <c>FailureBurst</c> rule: failed sign-ins, <c>invalid_client</c> answers and SCIM 401s are counted per source
/// address (an IPv6 /64) and per client, per minute, across every node (one row per key and minute, added to
/// atomically). A key over its limit is locked out for a while, longer each time within a day, as Keycloak's
/// temporary lockout does. Each node holds the live lockouts in memory, read again every second, so refusing a
/// locked-out request costs a dictionary lookup; a node that sees the limit crossed by its own count locks at once.
/// </summary>
public sealed partial class FailureBursts(
    IServiceScopeFactory scopes,
    TesseraConfiguration configuration,
    AuditLog audit,
    TesseraTelemetry telemetry,
    TimeProvider time,
    ILogger<FailureBursts> logger) : BackgroundService
{
    private const string AddressPrefix = "address:";
    private const string ClientPrefix = "client:";
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan StrikeMemory = TimeSpan.FromDays(1);

    /// <summary>Failures seen here and not yet added to the shared count.</summary>
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <summary>The shared count of each key as last read, with its minute.</summary>
    private readonly ConcurrentDictionary<string, (DateTime Minute, int Count)> _counted = new(StringComparer.Ordinal);

    /// <summary>Lockouts this node took on its own count, until the database confirms them.</summary>
    private readonly ConcurrentDictionary<string, DateTime> _provisional = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _wake = new(0);
    private ImmutableDictionary<string, DateTime> _lockouts = ImmutableDictionary.Create<string, DateTime>(StringComparer.Ordinal);
    private bool _unavailableLogged;
    private ExemptNetworks? _exempt;

    private sealed class Pending(FailureKind kind, string? address, string? clientId)
    {
        public int Count;

        public FailureKind Kind { get; } = kind;

        public string? Address { get; } = address;

        public string? ClientId { get; } = clientId;
    }

    /// <summary>Counts a failure of <paramref name="kind"/> from the request's address, and against <paramref name="clientId"/> for a client authentication.</summary>
    public void Failed(HttpContext http, FailureKind kind, string? clientId = null)
    {
        if (Rule() is not { } rule)
        {
            return;
        }

        var address = http.Connection.RemoteIpAddress;
        if (address is not null && rule.MaxFailuresPerAddress > 0 && !Exempt().Contains(address))
        {
            Count(AddressKey(address), rule.MaxFailuresPerAddress, rule, new Pending(kind, Plain(address).ToString(), null));
        }

        if (kind == FailureKind.ClientAuthentication && !string.IsNullOrEmpty(clientId) && rule.MaxFailuresPerClient > 0)
        {
            var bounded = clientId.Length > 100 ? clientId[..100] : clientId;
            Count(ClientPrefix + bounded, rule.MaxFailuresPerClient, rule, new Pending(kind, address is null ? null : Plain(address).ToString(), bounded));
        }
    }

    /// <summary>Whether requests from <paramref name="address"/> are locked out, and for how much longer.</summary>
    public bool IsLockedOut(IPAddress? address, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        return address is not null && _lockouts.Count > 0 && IsLockedOut(AddressKey(address), out retryAfter);
    }

    /// <summary>Whether authentication as <paramref name="clientId"/> is locked out, and for how much longer.</summary>
    public bool IsClientLockedOut(string? clientId, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        return !string.IsNullOrEmpty(clientId) && _lockouts.Count > 0 && IsLockedOut(ClientPrefix + (clientId.Length > 100 ? clientId[..100] : clientId), out retryAfter);
    }

    /// <summary>The key an address is counted under: IPv4 as it is, IPv6 by its /64 (one subscriber's prefix).</summary>
    public static string AddressKey(IPAddress address)
    {
        var plain = Plain(address);
        if (plain.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return AddressPrefix + plain;
        }

        var bytes = plain.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return AddressPrefix + new IPAddress(bytes) + "/64";
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var refreshed = DateTimeOffset.MinValue;
        var swept = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(FlushInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (Rule() is not { } rule)
            {
                _pending.Clear();
                _provisional.Clear();
                _lockouts = _lockouts.Clear();
                continue;
            }

            try
            {
                var flushed = await FlushAsync(rule, stoppingToken);
                var now = TimeProvider.System.GetUtcNow();
                if (flushed || now - refreshed >= RefreshInterval)
                {
                    await RefreshAsync(stoppingToken);
                    refreshed = now;
                }

                if (now - swept >= SweepInterval)
                {
                    await SweepAsync(stoppingToken);
                    swept = now;
                }

                _unavailableLogged = false;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is DbException or DbUpdateException or InvalidOperationException or TimeoutException)
            {
                // The database is away: counts wait here, lockouts already known still hold, provisional ones too.
                if (!_unavailableLogged)
                {
                    LogUnavailable(exception);
                    _unavailableLogged = true;
                }
            }
        }
    }

    /// <summary>The exempt networks, parsed once per configuration rather than at every failure of a burst.</summary>
    private NetworkList Exempt()
    {
        var anomaly = configuration.Current.Anomaly;
        var parsed = _exempt;
        if (parsed is null || !ReferenceEquals(parsed.Of, anomaly))
        {
            parsed = new ExemptNetworks(anomaly, NetworkList.Parse(anomaly.ExemptNetworks));
            _exempt = parsed;
        }

        return parsed.Networks;
    }

    private sealed record ExemptNetworks(AnomalyOptions Of, NetworkList Networks);

    private AnomalyRuleOptions? Rule() =>
        configuration.Current.Anomaly.Rules.FirstOrDefault(r => r.Rule == AnomalyRuleOptions.FailureBurst);

    private void Count(string key, int max, AnomalyRuleOptions rule, Pending failure)
    {
        var pending = _pending.GetOrAdd(key, failure);
        var local = Interlocked.Increment(ref pending.Count);
        var minute = Minute(time.GetUtcNow().UtcDateTime);
        var shared = _counted.TryGetValue(key, out var counted) && counted.Minute == minute ? counted.Count : 0;
        if (shared + local < max)
        {
            return;
        }

        if (rule.Action == AnomalyActions.Block && !IsLockedOut(key, out _))
        {
            // Over the limit on this node's own count: lock here now; the database decides how long once it is told.
            var until = time.GetUtcNow().UtcDateTime + rule.Lockout;
            _provisional[key] = until;
            ImmutableInterlocked.AddOrUpdate(ref _lockouts, key, until, (_, _) => until);
        }

        _wake.Release();
    }

    private bool IsLockedOut(string key, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!_lockouts.TryGetValue(key, out var until))
        {
            return false;
        }

        retryAfter = until - time.GetUtcNow().UtcDateTime;
        return retryAfter > TimeSpan.Zero;
    }

    /// <summary>Adds this node's failures to the shared counts; a count that crosses its limit locks (or, with <c>log</c>, is only audited).</summary>
    private async Task<bool> FlushAsync(AnomalyRuleOptions rule, CancellationToken cancellationToken)
    {
        if (_pending.IsEmpty)
        {
            return false;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        var minute = Minute(time.GetUtcNow().UtcDateTime);
        foreach (var key in _pending.Keys)
        {
            if (!_pending.TryRemove(key, out var failures))
            {
                continue;
            }

            int total;
            try
            {
                total = await AddAsync(db, key, minute, failures.Count, cancellationToken);
            }
            catch
            {
                _pending.AddOrUpdate(key, failures, (_, newer) =>
                {
                    Interlocked.Add(ref newer.Count, failures.Count);
                    return newer;
                });
                throw;
            }

            _counted[key] = (minute, total);
            var max = key.StartsWith(AddressPrefix, StringComparison.Ordinal) ? rule.MaxFailuresPerAddress : rule.MaxFailuresPerClient;
            if (total - failures.Count < max && total >= max)
            {
                await CrossedAsync(db, key, failures, total, rule, cancellationToken);
            }
        }

        _provisional.Clear();
        return true;
    }

    private static async Task<int> AddAsync(TesseraDbContext db, string key, DateTime minute, int count, CancellationToken cancellationToken)
    {
        // One statement both databases take: whichever node adds, the total it reads back is every node's.
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "INSERT INTO \"failure_counts\" (\"Key\", \"WindowStart\", \"Count\") VALUES (@key, @minute, @count) "
            + "ON CONFLICT (\"Key\", \"WindowStart\") DO UPDATE SET \"Count\" = \"failure_counts\".\"Count\" + excluded.\"Count\" RETURNING \"Count\"";
        Parameter(command, "key", key);
        Parameter(command, "minute", minute);
        Parameter(command, "count", count);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private static void Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    /// <summary>A key went over its limit this minute: audit it, and with <c>block</c> lock it out unless another node just did.</summary>
    private async Task CrossedAsync(TesseraDbContext db, string key, Pending failures, int total, AnomalyRuleOptions rule, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var evidence = new Dictionary<string, string?>
        {
            ["rule"] = AnomalyRuleOptions.FailureBurst,
            ["action"] = rule.Action,
            ["taken"] = rule.Action,
            ["counted"] = key.StartsWith(AddressPrefix, StringComparison.Ordinal) ? "address" : "client",
            ["key"] = key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..],
            ["failures"] = total.ToString(CultureInfo.InvariantCulture),
            ["per_minute_limit"] = (key.StartsWith(AddressPrefix, StringComparison.Ordinal) ? rule.MaxFailuresPerAddress : rule.MaxFailuresPerClient).ToString(CultureInfo.InvariantCulture),
            ["last_failure"] = failures.Kind switch
            {
                FailureKind.SignIn => "sign-in",
                FailureKind.ClientAuthentication => "invalid_client",
                _ => "scim-401",
            },
            ["at"] = now.ToString("O", CultureInfo.InvariantCulture),
        };

        if (rule.Action == AnomalyActions.Block)
        {
            if (await LockAsync(db, key, rule, now, cancellationToken) is not { } lockout)
            {
                return; // another node locked it a moment ago and audited that
            }

            evidence["locked_until"] = lockout.Until.ToString("O", CultureInfo.InvariantCulture);
            evidence["lockout_seconds"] = ((long)(lockout.Until - lockout.LockedAt).TotalSeconds).ToString(CultureInfo.InvariantCulture);
            evidence["strike"] = lockout.Strikes.ToString(CultureInfo.InvariantCulture);
        }

        audit.Record(new AuditEvent(AuditEvents.AnomalyDetected, AuditEvent.Failure)
        {
            IpAddress = failures.Address,
            ClientId = failures.ClientId,
            Reason = $"{AnomalyRuleOptions.FailureBurst}: {rule.Action}",
            Detail = evidence,
        });
        telemetry.Anomaly(AnomalyRuleOptions.FailureBurst, rule.Action);
    }

    private async Task<LockoutRecord?> LockAsync(TesseraDbContext db, string key, AnomalyRuleOptions rule, DateTime now, CancellationToken cancellationToken)
    {
        var earlier = await db.Lockouts.AsNoTracking().FirstOrDefaultAsync(l => l.Key == key, cancellationToken);
        if (earlier is not null && earlier.Until > now)
        {
            return null;
        }

        var strikes = earlier is not null && now - earlier.Until < StrikeMemory ? earlier.Strikes + 1 : 1;
        var length = TimeSpan.FromTicks((long)Math.Min(rule.Lockout.Ticks * Math.Pow(2, Math.Min(strikes - 1, 30)), rule.MaxLockout.Ticks));
        var lockout = new LockoutRecord { Key = key, LockedAt = now, Until = now + length, Strikes = strikes };
        if (earlier is null)
        {
            db.Lockouts.Add(lockout);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                return null; // another node's lockout won the insert
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }
        else
        {
            // Only over the lockout this node read: another node's newer one stands.
            var updated = await db.Lockouts.Where(l => l.Key == key && l.Until == earlier.Until)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.LockedAt, now).SetProperty(l => l.Until, lockout.Until).SetProperty(l => l.Strikes, strikes), cancellationToken);
            if (updated == 0)
            {
                return null;
            }
        }

        // Counting starts afresh when the lockout ends; the next lockout is longer instead.
        await db.FailureCounts.Where(f => f.Key == key).ExecuteDeleteAsync(cancellationToken);
        _counted.TryRemove(key, out _);
        return lockout;
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var live = await db.Lockouts.AsNoTracking().Where(l => l.Until > now).Select(l => new { l.Key, l.Until }).ToListAsync(cancellationToken);
        var lockouts = live.ToImmutableDictionary(l => l.Key, l => l.Until, StringComparer.Ordinal);
        foreach (var (key, until) in _provisional)
        {
            if (until > now && !lockouts.ContainsKey(key))
            {
                lockouts = lockouts.SetItem(key, until);
            }
        }

        _lockouts = lockouts;
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var minute = Minute(now);
        await db.FailureCounts.Where(f => f.WindowStart < minute).ExecuteDeleteAsync(cancellationToken);
        var forgotten = now - StrikeMemory;
        await db.Lockouts.Where(l => l.Until < forgotten).ExecuteDeleteAsync(cancellationToken);
    }

    private static DateTime Minute(DateTime at) => new(at.Ticks - (at.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);

    private static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    [LoggerMessage(EventId = 9301, Level = LogLevel.Warning, Message = "Failure counts cannot reach the database; lockouts already known still hold")]
    private partial void LogUnavailable(Exception exception);
}
