using System.Collections.Frozen;
using Tessera.Hosting;

namespace Tessera.Protocol;

/// <summary>The registered clients as configured, looked up by id without touching the database.</summary>
public sealed class ClientRegistry
{
    private volatile FrozenDictionary<string, ClientOptions> _clients;

    public ClientRegistry(TesseraConfiguration configuration)
    {
        _clients = Build(configuration.Current);
        configuration.Changed += options => _clients = Build(options);
    }

    public ClientOptions? Find(string? clientId) =>
        clientId is not null && _clients.TryGetValue(clientId, out var client) ? client : null;

    public IEnumerable<ClientOptions> All => _clients.Values;

    private static FrozenDictionary<string, ClientOptions> Build(TesseraOptions options) =>
        options.Clients.ToFrozenDictionary(c => c.ClientId, StringComparer.Ordinal);
}
