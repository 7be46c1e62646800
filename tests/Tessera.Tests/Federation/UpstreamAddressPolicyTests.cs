using System.Net;
using Tessera.Federation;

namespace Tessera.Tests.Federation;

/// <summary>Which addresses an upstream fetch may reach while private upstreams are not allowed.</summary>
public sealed class UpstreamAddressPolicyTests
{
    public static TheoryData<string, string, bool> Addresses => new()
    {
        // what it stands for, address, public
        { "a public IPv4 address", "93.184.215.14", true },
        { "a public IPv4 address just below 10/8", "9.255.255.255", true },
        { "a public IPv4 address just above 10/8", "11.0.0.0", true },
        { "a public IPv4 address just outside 172.16/12", "172.32.0.1", true },
        { "a public IPv4 address just outside CGNAT", "100.128.0.1", true },
        { "the last public IPv4 address before multicast", "223.255.255.255", true },
        { "loopback", "127.0.0.1", false },
        { "loopback, anywhere in 127/8", "127.255.255.254", false },
        { "the unspecified IPv4 address", "0.0.0.0", false },
        { "'this network'", "0.1.2.3", false },
        { "RFC 1918: 10/8", "10.1.2.3", false },
        { "RFC 1918: 172.16/12, lowest", "172.16.0.1", false },
        { "RFC 1918: 172.16/12, highest", "172.31.255.254", false },
        { "RFC 1918: 192.168/16", "192.168.1.1", false },
        { "link-local, where cloud metadata services answer", "169.254.169.254", false },
        { "shared address space (CGNAT)", "100.64.0.1", false },
        { "shared address space (CGNAT), highest", "100.127.255.254", false },
        { "IETF protocol assignments", "192.0.0.8", false },
        { "documentation TEST-NET-1", "192.0.2.10", false },
        { "documentation TEST-NET-2", "198.51.100.10", false },
        { "documentation TEST-NET-3", "203.0.113.10", false },
        { "benchmarking", "198.19.255.1", false },
        { "6to4 relay anycast", "192.88.99.1", false },
        { "IPv4 multicast", "224.0.0.251", false },
        { "reserved class E", "240.0.0.1", false },
        { "limited broadcast", "255.255.255.255", false },
        { "a public IPv6 address", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", true },
        { "a public IPv6 address just past the IETF block", "2001:200::1", true },
        { "IPv6 loopback", "::1", false },
        { "the unspecified IPv6 address", "::", false },
        { "IPv6 link-local", "fe80::1", false },
        { "IPv6 unique-local", "fd00::2", false },
        { "IPv6 unique-local, lower half", "fc00::1", false },
        { "deprecated site-local", "fec0::1", false },
        { "IPv6 multicast", "ff02::1", false },
        { "IPv6 documentation", "2001:db8::1", false },
        { "IPv6 documentation (RFC 9637)", "3fff::1", false },
        { "Teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", false },
        { "discard-only", "100::1", false },
        { "deprecated IPv4-compatible loopback", "::127.0.0.1", false },
        { "IPv4-mapped loopback", "::ffff:127.0.0.1", false },
        { "IPv4-mapped RFC 1918", "::ffff:10.0.0.1", false },
        { "IPv4-mapped link-local", "::ffff:169.254.169.254", false },
        { "IPv4-mapped public", "::ffff:93.184.215.14", true },
        { "NAT64 of loopback", "64:ff9b::7f00:1", false },
        { "NAT64 of a public address", "64:ff9b::5db8:d70e", true },
        { "local-use NAT64", "64:ff9b:1::a00:1", false },
        { "6to4 of RFC 1918", "2002:c0a8:101::1", false },
        { "6to4 of a public address", "2002:5db8:d70e::1", true },
        { "unassigned IPv6 space outside global unicast", "4000::1", false },
    };

    [Theory]
    [MemberData(nameof(Addresses))]
    public void An_address_is_public_only_outside_every_special_purpose_range(string what, string address, bool expected)
    {
        var parsed = IPAddress.Parse(address);

        Assert.True(expected == UpstreamAddressPolicy.IsPublic(parsed), $"{what} ({address}) should be {(expected ? "public" : "refused")}");
        Assert.Equal(expected, UpstreamAddressPolicy.NonPublicRange(parsed) is null);
    }

    public static TheoryData<string, string, bool> Urls => new()
    {
        // what it stands for, configured URL, refused before any lookup
        { "a DNS name", "https://idp.stmarys.example", false },
        { "a public IP literal", "https://93.184.215.14/", false },
        { "localhost", "http://localhost:5000", true },
        { "localhost in capitals", "http://LOCALHOST:5000", true },
        { "localhost with a trailing dot", "https://localhost./", true },
        { "a name under .localhost", "https://idp.localhost/", true },
        { "the loopback IP", "http://127.0.0.1:8080", true },
        { "loopback written in hex", "http://0x7f.1/", true },
        { "loopback written as one number", "http://2130706433/", true },
        { "IPv6 loopback", "http://[::1]:8080/", true },
        { "IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/", true },
        { "the cloud metadata address", "https://169.254.169.254/latest", true },
        { "an RFC 1918 literal", "https://10.0.0.5/realms/x", true },
        { "an IPv6 link-local literal with a zone", "https://[fe80::1%25eth0]/", true },
    };

    [Theory]
    [MemberData(nameof(Urls))]
    public void A_configured_url_names_a_non_public_host_when_it_is_a_private_literal_or_localhost(string what, string url, bool expected)
    {
        Assert.True(expected == UpstreamAddressPolicy.NamesNonPublicHost(new Uri(url)), $"{what} ({url})");
    }
}
