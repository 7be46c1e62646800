using System.Collections.Concurrent;

namespace Tessera.Identity;

/// <summary>
/// Which user each upstream identity is linked to, as far as this process has seen. A link is created once and never
/// points elsewhere afterwards, so remembering it is safe; anything that can change (a user being disabled) is not
/// kept here, and a link whose user no longer exists is forgotten when next used. Bounded: past the limit the
/// memory starts over, which only costs lookups.
/// </summary>
public sealed class IdentityLinks
{
    public const int Capacity = 100_000;

    private ConcurrentDictionary<(string Organization, string Connection, string Subject), Guid> _links = new();

    public Guid? Find((string Organization, string Connection, string Subject) key) =>
        _links.TryGetValue(key, out var userId) ? userId : null;

    public void Remember((string Organization, string Connection, string Subject) key, Guid userId)
    {
        if (_links.Count >= Capacity)
        {
            _links = new();
        }

        _links[key] = userId;
    }

    public void Forget((string Organization, string Connection, string Subject) key) => _links.TryRemove(key, out _);
}
