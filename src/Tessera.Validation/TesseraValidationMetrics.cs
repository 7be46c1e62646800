using System.Diagnostics.Metrics;

namespace Tessera.Validation;

/// <summary>
/// The library's counters: published on the <c>Tessera.Validation</c> meter for any metrics exporter, and kept as
/// running totals that <see cref="Snapshot"/> reads, so an app can show them without one.
/// </summary>
public sealed class TesseraValidationMetrics
{
    public const string MeterName = "Tessera.Validation";

    private static readonly KeyValuePair<string, object?> Valid = new("outcome", "valid");
    private static readonly KeyValuePair<string, object?> Invalid = new("outcome", "invalid");
    private static readonly KeyValuePair<string, object?>[] Sources =
    [
        new("source", "cache"),
        new("source", "local"),
        new("source", "introspection"),
    ];

    private readonly Counter<long> _validations;
    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _introspections;
    private readonly Counter<long> _revocations;
    private readonly Counter<long> _signals;
    private readonly Counter<long> _keyRefreshes;

    // Running totals for the snapshot, indexed [valid, source].
    private readonly long[] _validationTotals = new long[2 * 3];
    private long _cacheHitTotal;
    private long _introspectionActive;
    private long _introspectionInactive;
    private long _introspectionFailed;
    private long _sessionsRevoked;
    private long _accountsDisabled;
    private long _accountsEnabled;
    private long _signalsAccepted;
    private long _signalsRefused;
    private long _keyRefreshTotal;
    private Func<int> _cachedTokens = () => 0;

    public TesseraValidationMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _validations = meter.CreateCounter<long>("tessera.validation.validations", description: "Token validations, by outcome (valid, invalid) and source (cache, local, introspection)");
        _cacheHits = meter.CreateCounter<long>("tessera.validation.cache_hits", description: "Validations answered from the cache without a signature check");
        _introspections = meter.CreateCounter<long>("tessera.validation.introspections", description: "Introspection requests to Tessera, by outcome (active, inactive, failed)");
        _revocations = meter.CreateCounter<long>("tessera.validation.revocations", description: "Security events applied, by event (session-revoked, account-disabled, account-enabled)");
        _signals = meter.CreateCounter<long>("tessera.validation.signals", description: "Security Event Tokens received, by outcome (accepted, refused) and err");
        _keyRefreshes = meter.CreateCounter<long>("tessera.validation.key_refreshes", description: "Key-set refreshes caused by unknown key ids");
        meter.CreateObservableGauge("tessera.validation.cached_tokens", () => _cachedTokens(), description: "Tokens in the validation cache");
    }

    /// <summary>The current totals since the app started.</summary>
    public TesseraValidationMetricsSnapshot Snapshot() => new(
        ValidFromCache: Read(true, ValidationSource.Cache),
        ValidLocal: Read(true, ValidationSource.Local),
        ValidIntrospection: Read(true, ValidationSource.Introspection),
        InvalidFromCache: Read(false, ValidationSource.Cache),
        InvalidLocal: Read(false, ValidationSource.Local),
        InvalidIntrospection: Read(false, ValidationSource.Introspection),
        CacheHits: Interlocked.Read(ref _cacheHitTotal),
        IntrospectionsActive: Interlocked.Read(ref _introspectionActive),
        IntrospectionsInactive: Interlocked.Read(ref _introspectionInactive),
        IntrospectionsFailed: Interlocked.Read(ref _introspectionFailed),
        SessionsRevoked: Interlocked.Read(ref _sessionsRevoked),
        AccountsDisabled: Interlocked.Read(ref _accountsDisabled),
        AccountsEnabled: Interlocked.Read(ref _accountsEnabled),
        SignalsAccepted: Interlocked.Read(ref _signalsAccepted),
        SignalsRefused: Interlocked.Read(ref _signalsRefused),
        KeyRefreshes: Interlocked.Read(ref _keyRefreshTotal),
        CachedTokens: _cachedTokens());

    internal void ObserveCachedTokens(Func<int> count) => _cachedTokens = count;

    internal void Validated(bool valid, ValidationSource source)
    {
        Interlocked.Increment(ref _validationTotals[Index(valid, source)]);
        _validations.Add(1, valid ? Valid : Invalid, Sources[(int)source]);
    }

    internal void CacheHit()
    {
        Interlocked.Increment(ref _cacheHitTotal);
        _cacheHits.Add(1);
    }

    internal void Introspected(IntrospectionOutcome outcome)
    {
        switch (outcome)
        {
            case IntrospectionOutcome.Active:
                Interlocked.Increment(ref _introspectionActive);
                break;
            case IntrospectionOutcome.Inactive:
                Interlocked.Increment(ref _introspectionInactive);
                break;
            default:
                Interlocked.Increment(ref _introspectionFailed);
                break;
        }

        _introspections.Add(1, new KeyValuePair<string, object?>("outcome", outcome switch
        {
            IntrospectionOutcome.Active => "active",
            IntrospectionOutcome.Inactive => "inactive",
            _ => "failed",
        }));
    }

    internal void EventApplied(SecurityEventType type)
    {
        switch (type)
        {
            case SecurityEventType.SessionRevoked:
                Interlocked.Increment(ref _sessionsRevoked);
                break;
            case SecurityEventType.AccountDisabled:
                Interlocked.Increment(ref _accountsDisabled);
                break;
            default:
                Interlocked.Increment(ref _accountsEnabled);
                break;
        }

        _revocations.Add(1, new KeyValuePair<string, object?>("event", SecurityEventTypes.ShortName(type)));
    }

    internal void SignalReceived(string? error)
    {
        Interlocked.Increment(ref error is null ? ref _signalsAccepted : ref _signalsRefused);
        _signals.Add(1, new KeyValuePair<string, object?>("outcome", error is null ? "accepted" : "refused"), new KeyValuePair<string, object?>("err", error));
    }

    internal void KeysRefreshed()
    {
        Interlocked.Increment(ref _keyRefreshTotal);
        _keyRefreshes.Add(1);
    }

    private long Read(bool valid, ValidationSource source) => Interlocked.Read(ref _validationTotals[Index(valid, source)]);

    private static int Index(bool valid, ValidationSource source) => (valid ? 0 : 3) + (int)source;
}
