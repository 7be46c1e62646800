using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Tessera.Validation;

/// <summary>
/// Validated tokens by their exact string. Bounded by <see cref="TesseraValidationOptions.MaxCachedTokens"/>: past
/// the bound, expired entries go first, then trusted ones nearest their end; refusals go last, since forgetting one
/// lets its token be validated locally again.
/// </summary>
internal sealed class ValidationCache
{
    private readonly ConcurrentDictionary<string, CachedValidation> _entries = new(StringComparer.Ordinal);
    private readonly Lock _trimming = new();
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private int _count;

    public ValidationCache(IOptions<TesseraValidationOptions> options, TimeProvider time, TesseraValidationMetrics metrics)
    {
        _capacity = options.Value.MaxCachedTokens;
        _time = time;
        metrics.ObserveCachedTokens(() => Count);
    }

    public int Count => Volatile.Read(ref _count);

    public bool TryGet(string token, out CachedValidation entry) => _entries.TryGetValue(token, out entry!);

    public void Set(string token, CachedValidation entry)
    {
        while (true)
        {
            if (_entries.TryGetValue(token, out var current))
            {
                if (_entries.TryUpdate(token, entry, current))
                {
                    return;
                }
            }
            else if (_entries.TryAdd(token, entry))
            {
                if (Interlocked.Increment(ref _count) > _capacity)
                {
                    Trim();
                }

                return;
            }
        }
    }

    /// <summary>Removes the entry only if it is still <paramref name="entry"/> (a newer one stays).</summary>
    public bool Remove(string token, CachedValidation entry)
    {
        if (_entries.TryRemove(KeyValuePair.Create(token, entry)))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    /// <summary>Drops every entry whose token matches; returns how many.</summary>
    public int RemoveWhere(Func<VerifiedAccessToken, bool> match)
    {
        var removed = 0;
        foreach (var (token, entry) in _entries)
        {
            if (match(entry.Token) && Remove(token, entry))
            {
                removed++;
            }
        }

        return removed;
    }

    private void Trim()
    {
        if (!_trimming.TryEnter())
        {
            return;
        }

        try
        {
            var now = _time.GetUtcNow().UtcTicks;
            foreach (var (token, entry) in _entries)
            {
                if (entry.ExpiresAt <= now)
                {
                    Remove(token, entry);
                }
            }

            // Room for a tenth of the capacity, so a full cache does not trim on every insert.
            var target = _capacity - Math.Max(1, _capacity / 10);
            if (Count <= target)
            {
                return;
            }

            foreach (var (token, entry) in _entries.OrderBy(e => e.Value.Trusted ? 0 : 1).ThenBy(e => e.Value.ExpiresAt).ToList())
            {
                if (Count <= target)
                {
                    break;
                }

                Remove(token, entry);
            }
        }
        finally
        {
            _trimming.Exit();
        }
    }
}
