using System.Net;
using System.Net.Sockets;

namespace Tessera.Federation;

/// <summary>
/// Which addresses upstream fetches may reach while <c>Network.AllowPrivateUpstreams</c> is off: public unicast
/// only. Refused are the special-purpose ranges of the IANA registries (RFC 6890): loopback, private-use, link-local
/// (with cloud metadata services), shared (CGNAT), multicast, broadcast and reserved space, and the benchmarking and
/// documentation ranges, which no real identity provider uses. IPv6 spellings of an IPv4 address (IPv4-mapped,
/// NAT64, 6to4) are judged by the IPv4 address they carry.
/// </summary>
public static class UpstreamAddressPolicy
{
    /// <summary>Why a configured URL is refused at compile time, after its JSON path.</summary>
    public const string ConfigurationRefusal = "points at a private or loopback address; set Network.AllowPrivateUpstreams to true to allow it (tests, development)";

    private static readonly AddressRange[] IPv4 =
    [
        new("0.0.0.0", 8, "'this network' (RFC 1122 §3.2.1.3)"),
        new("10.0.0.0", 8, "private-use (RFC 1918)"),
        new("100.64.0.0", 10, "shared address space (RFC 6598)"),
        new("127.0.0.0", 8, "loopback (RFC 1122 §3.2.1.3)"),
        new("169.254.0.0", 16, "link-local (RFC 3927)"),
        new("172.16.0.0", 12, "private-use (RFC 1918)"),
        new("192.0.0.0", 24, "IETF protocol assignments (RFC 6890)"),
        new("192.0.2.0", 24, "documentation (RFC 5737)"),
        new("192.88.99.0", 24, "6to4 relay anycast (RFC 7526)"),
        new("192.168.0.0", 16, "private-use (RFC 1918)"),
        new("198.18.0.0", 15, "benchmarking (RFC 2544)"),
        new("198.51.100.0", 24, "documentation (RFC 5737)"),
        new("203.0.113.0", 24, "documentation (RFC 5737)"),
        new("224.0.0.0", 4, "multicast (RFC 5771)"),
        new("240.0.0.0", 4, "reserved or broadcast (RFC 1112, RFC 919)"),
    ];

    private static readonly AddressRange[] IPv6 =
    [
        new("::", 128, "unspecified (RFC 4291 §2.5.2)"),
        new("::1", 128, "loopback (RFC 4291 §2.5.3)"),
        new("64:ff9b:1::", 48, "local-use NAT64 (RFC 8215)"),
        new("100::", 64, "discard-only (RFC 6666)"),
        new("2001::", 23, "IETF protocol assignments (RFC 2928)"),
        new("2001:db8::", 32, "documentation (RFC 3849)"),
        new("3fff::", 20, "documentation (RFC 9637)"),
        new("fc00::", 7, "unique-local (RFC 4193)"),
        new("fe80::", 10, "link-local (RFC 4291 §2.5.6)"),
        new("fec0::", 10, "site-local (RFC 3879)"),
        new("ff00::", 8, "multicast (RFC 4291 §2.7)"),
    ];

    private static readonly AddressRange GlobalUnicast = new("2000::", 3, "");
    private static readonly AddressRange Nat64 = new("64:ff9b::", 96, "");
    private static readonly AddressRange SixToFour = new("2002::", 16, "");

    public static bool IsPublic(IPAddress address) => NonPublicRange(address) is null;

    /// <summary>The special-purpose range <paramref name="address"/> lies in, named for logs; null when it is public.</summary>
    public static string? NonPublicRange(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return IPv4.FirstOrDefault(r => r.Contains(address))?.Name;
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return "not an IP address";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return NonPublicRange(address.MapToIPv4()) is { } mapped ? $"IPv4-mapped {mapped}" : null;
        }

        // RFC 6052 §2.1 and RFC 3056 §2: the IPv4 address these carry is the one finally reached.
        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address))
        {
            return NonPublicRange(new IPAddress(bytes.AsSpan(12, 4))) is { } translated ? $"NAT64 of {translated}" : null;
        }

        if (SixToFour.Contains(address))
        {
            return NonPublicRange(new IPAddress(bytes.AsSpan(2, 4))) is { } relayed ? $"6to4 of {relayed}" : null;
        }

        if (IPv6.FirstOrDefault(r => r.Contains(address)) is { } range)
        {
            return range.Name;
        }

        return GlobalUnicast.Contains(address) ? null : "outside global unicast (RFC 4291 §2.4)";
    }

    /// <summary>
    /// Whether a configured URL names a non-public host without any lookup: an IP literal outside public unicast,
    /// or a localhost name (RFC 6761 §6.3), which resolves to loopback whatever DNS says.
    /// </summary>
    public static bool NamesNonPublicHost(Uri uri)
    {
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return !IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) || !IsPublic(address);
        }

        var host = uri.Host.TrimEnd('.');
        return uri.IsLoopback
            || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
    }

    private sealed class AddressRange(string network, int prefixLength, string name)
    {
        private readonly byte[] _network = IPAddress.Parse(network).GetAddressBytes();

        public string Name { get; } = name;

        public bool Contains(IPAddress address)
        {
            var bytes = address.GetAddressBytes();
            if (bytes.Length != _network.Length)
            {
                return false;
            }

            var whole = prefixLength / 8;
            if (!bytes.AsSpan(0, whole).SequenceEqual(_network.AsSpan(0, whole)))
            {
                return false;
            }

            var rest = prefixLength % 8;
            var mask = (byte)(0xFF << (8 - rest));
            return rest == 0 || (bytes[whole] & mask) == (_network[whole] & mask);
        }
    }
}
