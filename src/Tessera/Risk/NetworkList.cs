using System.Net;

namespace Tessera.Risk;

/// <summary>A list of addresses and CIDR ranges, as configuration writes them (<c>10.0.0.0/8</c>, <c>203.0.113.7</c>, <c>2001:db8::/32</c>).</summary>
public sealed class NetworkList
{
    private readonly IReadOnlyList<IPNetwork> _networks;

    private NetworkList(IReadOnlyList<IPNetwork> networks) => _networks = networks;

    public static readonly NetworkList Empty = new([]);

    public IReadOnlyList<IPNetwork> Networks => _networks;

    public static bool TryParseEntry(string value, out IPNetwork network)
    {
        if (IPNetwork.TryParse(value, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(value, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }

    /// <summary>The entries that parse (configuration validation has refused the others already).</summary>
    public static NetworkList Parse(IEnumerable<string> values) =>
        new(values.Select(v => TryParseEntry(v.Trim(), out var n) ? (IPNetwork?)n : null).OfType<IPNetwork>().ToList());

    public bool Contains(IPAddress? address)
    {
        if (address is null || _networks.Count == 0)
        {
            return false;
        }

        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return _networks.Any(n => n.Contains(plain));
    }
}
