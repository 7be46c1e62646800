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

    public void Add(OpenIddictEntityFrameworkCoreApplication application)
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
        _byClientId.Clear();
        _byId.Clear();
    }
}
