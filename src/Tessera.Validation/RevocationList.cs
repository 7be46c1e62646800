using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Tessera.Validation;

/// <summary>
/// Sessions Tessera revoked and accounts it disabled, as pushed by Security Event Tokens, remembered for
/// <see cref="TesseraValidationOptions.RevocationRetention"/> so a token first seen after the event is refused too.
/// <see cref="Generation"/> moves on with every change: a validation that read it before checking this list and
/// finds it moved after caching its answer checks again, so an answer cannot land in the cache after the drop that
/// was meant to remove it.
/// </summary>
internal sealed class RevocationList(IOptions<TesseraValidationOptions> options, TimeProvider time)
{
    private readonly TimeSpan _retention = options.Value.RevocationRetention;
    private readonly ConcurrentDictionary<string, long> _revokedSessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DisabledAccount> _disabledAccounts = new(StringComparer.Ordinal);
    private long _generation;
    private long _forgottenAt;

    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Whether a token of <paramref name="token"/>'s subject, session and issue time is refused.</summary>
    public bool Refuses(VerifiedAccessToken token)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (token.SessionId is { } sid && _revokedSessions.TryGetValue(sid, out var forgetAt) && forgetAt > now)
        {
            return true;
        }

        // RISC account-disabled: tokens issued up to the event stay refused, even after the account is enabled.
        return _disabledAccounts.TryGetValue(token.Subject, out var disabled) && disabled.ForgetAt > now && token.IssuedAt.ToUnixTimeSeconds() <= disabled.Until;
    }

    public void RevokeSession(string sessionId)
    {
        Forget();
        _revokedSessions[sessionId] = (time.GetUtcNow() + _retention).UtcTicks;
        Interlocked.Increment(ref _generation);
    }

    /// <summary>Refuses the subject's tokens issued at or before <paramref name="timeOfEvent"/> (seconds since the epoch).</summary>
    public void DisableAccount(string subject, long timeOfEvent)
    {
        Forget();
        var forgetAt = (time.GetUtcNow() + _retention).UtcTicks;
        _disabledAccounts.AddOrUpdate(subject, new DisabledAccount(timeOfEvent, forgetAt),
            (_, existing) => new DisabledAccount(Math.Max(existing.Until, timeOfEvent), forgetAt));
        Interlocked.Increment(ref _generation);
    }

    private void Forget()
    {
        // At most once a minute: a mass deprovisioning pushes thousands of events in a row.
        var now = time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _forgottenAt);
        if (now - last < TimeSpan.TicksPerMinute || Interlocked.CompareExchange(ref _forgottenAt, now, last) != last)
        {
            return;
        }

        foreach (var (sid, forgetAt) in _revokedSessions)
        {
            if (forgetAt <= now)
            {
                _revokedSessions.TryRemove(KeyValuePair.Create(sid, forgetAt));
            }
        }

        foreach (var (subject, disabled) in _disabledAccounts)
        {
            if (disabled.ForgetAt <= now)
            {
                _disabledAccounts.TryRemove(KeyValuePair.Create(subject, disabled));
            }
        }
    }

    private sealed record DisabledAccount(long Until, long ForgetAt);
}
