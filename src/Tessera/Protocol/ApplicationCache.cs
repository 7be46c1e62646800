using System.Collections.Concurrent;
using OpenIddict.EntityFrameworkCore.Models;

namespace Tessera.Protocol;

/// <summary>
/// Applications read once and shared across requests. Client registrations change only when configuration
/// changes, and <see cref="ClientSynchronizer"/> clears this cache when it writes them.
/// </summary>
public sealed class ApplicationCache
{
    private readonly ConcurrentDictionary<string, OpenIddictEntityFrameworkCoreApplication> _byClientId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OpenIddictEntityFrameworkCoreApplication> _byId = new(StringComparer.Ordinal);

    public bool TryGetByClientId(string clientId, out OpenIddictEntityFrameworkCoreApplication? application) =>
        _byClientId.TryGetValue(clientId, out application);

    public bool TryGetById(string id, out OpenIddictEntityFrameworkCoreApplication? application) =>
        _byId.TryGetValue(id, out application);

    private long _generation;

    /// <summary>Moves on at every <see cref="Clear"/>: an application read before it is not cached after it.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Caches an application read while the cache was at <paramref name="generation"/>, unless it has been cleared since (the read may be stale).</summary>
    public void Add(OpenIddictEntityFrameworkCoreApplication application, long generation)
    {
        lock (_byClientId)
        {
            if (generation == _generation)
            {
                Add(application);
            }
        }
    }

    private void Add(OpenIddictEntityFrameworkCoreApplication application)
    {
        if (application.ClientId is not null)
        {
            _byClientId[application.ClientId] = application;
        }

        if (application.Id is not null)
        {
            _byId[application.Id] = application;
        }
    }

    public void Clear()
    {
        lock (_byClientId)
        {
            Interlocked.Increment(ref _generation);
            _byClientId.Clear();
            _byId.Clear();
        }
    }
}
