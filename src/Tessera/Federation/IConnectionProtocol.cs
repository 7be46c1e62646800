using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>
/// What a connector knows of its connections before any request: how to check and compile their settings, and where
/// the upstream answers. The configuration compiler asks the protocol named by each connection's <c>Protocol</c>, so
/// nothing outside Federation reads a protocol's settings.
/// </summary>
public interface IConnectionProtocol
{
    /// <summary>The <c>Protocol</c> value of its connections.</summary>
    string Name { get; }

    /// <summary>The route of its connections' callbacks, relative to the issuer, with a <c>{connectionId}</c> parameter.</summary>
    string CallbackRoute { get; }

    /// <summary>Where the upstream answers, relative to the issuer.</summary>
    string CallbackPath(ConnectionOptions connection);

    /// <summary>The connection's settings compiled for sign-in, or null when it reported a problem (at its JSON path).</summary>
    object? Compile(ConnectionCompilation compilation);
}

/// <summary>One connection to compile: the whole configuration (a connection may name a client), where it sits, and where to report problems.</summary>
public sealed record ConnectionCompilation(TesseraOptions Configuration, ConnectionOptions Connection, string Path, TesseraIssuer Issuer, Action<string, string> Error);

/// <summary>The protocols Tessera's connectors speak.</summary>
public static class ConnectionProtocols
{
    public static readonly IReadOnlyList<IConnectionProtocol> All = [new OidcConnectionProtocol(), new SamlConnectionProtocol()];

    public static IConnectionProtocol? Find(string? name) => All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));
}
