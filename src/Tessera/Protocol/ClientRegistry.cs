using Tessera.Hosting;

namespace Tessera.Protocol;

/// <summary>The registered clients of the configuration in force, looked up by id without touching the database.</summary>
public sealed class ClientRegistry(TesseraConfiguration configuration)
{
    public ClientOptions? Find(string? clientId) => configuration.Current.FindClient(clientId);

    public IEnumerable<ClientOptions> All => configuration.Current.Clients;
}
