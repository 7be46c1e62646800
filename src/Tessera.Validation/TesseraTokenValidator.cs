using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Tessera.Validation;

/// <summary>
/// Validates a Tessera access token for this API. A token seen before is answered from the cache (a dictionary
/// lookup and two comparisons) until its recheck time; then Tessera is asked by introspection, once for all
/// concurrent requests carrying it. A token seen for the first time is verified locally (signature, claims, pushed
/// revocations). <see cref="TesseraValidationOptions.RecheckAfter"/> sets how long an answer is trusted.
/// </summary>
public sealed partial class TesseraTokenValidator
{
    private readonly TesseraValidationOptions _options;
    private readonly AccessTokenVerifier _verifier;
    private readonly ValidationCache _cache;
    private readonly RevocationList _revocations;
    private readonly TokenIntrospector _introspector;
    private readonly TesseraValidationMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Task<TesseraValidationResult>> _rechecks = new(StringComparer.Ordinal);

    internal TesseraTokenValidator(IOptions<TesseraValidationOptions> options, AccessTokenVerifier verifier, ValidationCache cache, RevocationList revocations,
        TokenIntrospector introspector, TesseraValidationMetrics metrics, TimeProvider time, ILogger<TesseraTokenValidator> logger)
    {
        _options = options.Value;
        _verifier = verifier;
        _cache = cache;
        _revocations = revocations;
        _introspector = introspector;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// The token's principal, or why it is refused. The principal of a cached answer is shared by every request
    /// carrying the token: treat it as read-only (the authentication handler hands each request a copy).
    /// </summary>
    public ValueTask<TesseraValidationResult> ValidateAsync(string token, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGet(token, out var entry))
        {
            var now = _time.GetUtcNow().UtcTicks;
            if (now < entry.RecheckAt)
            {
                _metrics.CacheHit();
                _metrics.Validated(entry.Trusted, ValidationSource.Cache);
                return new ValueTask<TesseraValidationResult>(entry.Answer);
            }

            if (now >= entry.ExpiresAt)
            {
                _cache.Remove(token, entry);
                return new ValueTask<TesseraValidationResult>(Counted(TesseraValidationResult.Invalid(TokenFailures.Expired, "The access token has expired.", ValidationSource.Cache)));
            }

            return new ValueTask<TesseraValidationResult>(RecheckAsync(token, cancellationToken));
        }

        return new ValueTask<TesseraValidationResult>(ValidateFirstSeenAsync(token, cancellationToken));
    }

    private async Task<TesseraValidationResult> ValidateFirstSeenAsync(string token, CancellationToken cancellationToken)
    {
        var generation = _revocations.Generation;
        var (verified, failure) = await _verifier.VerifyAsync(token, cancellationToken);
        if (verified is null)
        {
            TokenRefused(_logger, failure!.Failure!, ValidationSource.Local);
            return Counted(failure);
        }

        if (_revocations.Refuses(verified))
        {
            return Counted(Revoked(ValidationSource.Local));
        }

        var now = _time.GetUtcNow();
        var entry = CachedValidation.Trust(verified, now, RecheckTime(now), _options.ClockSkew);

        // With RecheckAfter zero ("ask every time") the first time is asked too.
        return Counted(_options.RecheckAfter == TimeSpan.Zero
            ? await AskTesseraAsync(token, entry)
            : Admit(token, entry, generation, ValidationSource.Local));
    }

    /// <summary>One introspection for every concurrent request carrying <paramref name="token"/>.</summary>
    private async Task<TesseraValidationResult> RecheckAsync(string token, CancellationToken cancellationToken)
    {
        var flight = new TaskCompletionSource<TesseraValidationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = _rechecks.GetOrAdd(token, flight.Task);
        if (!ReferenceEquals(shared, flight.Task))
        {
            return Counted(await shared.WaitAsync(cancellationToken));
        }

        try
        {
            var result = await RecheckOnceAsync(token);
            flight.SetResult(result);
            return Counted(result);
        }
        finally
        {
            _rechecks.TryRemove(KeyValuePair.Create(token, flight.Task));
        }
    }

    private async Task<TesseraValidationResult> RecheckOnceAsync(string token)
    {
        var now = _time.GetUtcNow();
        if (_cache.TryGet(token, out var entry))
        {
            if (now.UtcTicks < entry.RecheckAt && _options.RecheckAfter != TimeSpan.Zero)
            {
                // A recheck that finished just before this one began already answered.
                return entry.Answer;
            }

            return await AskTesseraAsync(token, entry);
        }

        // Dropped meanwhile (a revocation, or trimming): verify it locally again, then ask.
        var (verified, failure) = await _verifier.VerifyAsync(token, CancellationToken.None);
        return verified is null ? failure! : await AskTesseraAsync(token, CachedValidation.Trust(verified, now, now, _options.ClockSkew));
    }

    /// <summary>Introspection, and what its answer does to the cache.</summary>
    private async Task<TesseraValidationResult> AskTesseraAsync(string token, CachedValidation entry)
    {
        var generation = _revocations.Generation;
        if (_revocations.Refuses(entry.Token))
        {
            _cache.Remove(token, entry);
            return Revoked(ValidationSource.Cache);
        }

        var outcome = await _introspector.IntrospectAsync(token);
        var now = _time.GetUtcNow();
        switch (outcome)
        {
            case IntrospectionOutcome.Active:
                return Admit(token, CachedValidation.Trust(entry.Token, now, RecheckTime(now), _options.ClockSkew), generation, ValidationSource.Introspection);

            case IntrospectionOutcome.Inactive:
                var refusal = TesseraValidationResult.Invalid(TokenFailures.Inactive, "Tessera reports the access token is no longer active.", ValidationSource.Introspection);
                _cache.Set(token, CachedValidation.Refuse(entry.Token, refusal, _options.ClockSkew));
                return refusal;

            default:
                // Tessera unreachable: fail closed, unless the API grants a grace after the recheck time.
                var graceEnds = new DateTimeOffset(entry.ConfirmedAt, TimeSpan.Zero) + _options.RecheckAfter + _options.UnreachableGrace;
                if (_options.UnreachableGrace > TimeSpan.Zero && now < graceEnds && now.UtcTicks < entry.ExpiresAt)
                {
                    var retryAt = now + TimeSpan.FromSeconds(Math.Min(15, _options.UnreachableGrace.TotalSeconds));
                    return Admit(token, entry.Postponed(retryAt < graceEnds ? retryAt : graceEnds), generation, ValidationSource.Cache);
                }

                return TesseraValidationResult.Invalid(TokenFailures.RecheckUnavailable, "The access token could not be rechecked with Tessera.", ValidationSource.Introspection);
        }
    }

    /// <summary>
    /// Caches a trusted answer, then makes sure no revocation slipped in between the caller's first look at the
    /// revocation list and the insert (<see cref="RevocationList.Generation"/>).
    /// </summary>
    private TesseraValidationResult Admit(string token, CachedValidation entry, long generation, ValidationSource source)
    {
        _cache.Set(token, entry);
        if (_revocations.Generation != generation && _revocations.Refuses(entry.Token))
        {
            _cache.Remove(token, entry);
            return Revoked(source);
        }

        return source == ValidationSource.Cache ? entry.Answer : TesseraValidationResult.Valid(entry.Token.Principal, source);
    }

    private DateTimeOffset RecheckTime(DateTimeOffset now) =>
        _options.RechecksNever ? DateTimeOffset.MaxValue : now + _options.RecheckAfter;

    private static TesseraValidationResult Revoked(ValidationSource source) =>
        TesseraValidationResult.Invalid(TokenFailures.Revoked, "Tessera revoked the access token's session or account.", source);

    private TesseraValidationResult Counted(TesseraValidationResult result)
    {
        _metrics.Validated(result.IsValid, result.Source);
        return result;
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Access token refused ({Failure}, {Source})")]
    private static partial void TokenRefused(ILogger logger, string failure, ValidationSource source);
}
