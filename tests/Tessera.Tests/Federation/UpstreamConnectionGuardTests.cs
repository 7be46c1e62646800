using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Federation;

/// <summary>The connect step of upstream fetches: what is checked is what is connected to, under the setting in force.</summary>
public sealed class UpstreamConnectionGuardTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public UpstreamConnectionGuardTests() => _listener.Start();

    public void Dispose() => _listener.Dispose();

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private static TesseraModel Model(bool allowPrivate)
    {
        var options = TestConfiguration.Create(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = "Data Source=x.db" });
        options.Network.AllowPrivateUpstreams = allowPrivate;
        return TestModel.Compile(options);
    }

    private static UpstreamConnectionGuard Guard(TesseraConfiguration configuration, params IPAddress[] answer) =>
        new(configuration, (_, _) => Task.FromResult(answer), NullLogger<UpstreamConnectionGuard>.Instance);

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused_without_a_connection()
    {
        var guard = Guard(new TesseraConfiguration(Model(allowPrivate: false)), IPAddress.Loopback);

        var refused = await Assert.ThrowsAsync<UpstreamAddressRefusedException>(() => guard.ConnectAsync(new DnsEndPoint("idp.example", Port), CancellationToken.None));

        Assert.IsAssignableFrom<HttpRequestException>(refused);
        Assert.Contains("the address is private", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Network.AllowPrivateUpstreams", refused.Message, StringComparison.Ordinal);
        Assert.False(_listener.Pending());
    }

    [Fact]
    public async Task One_private_answer_among_public_ones_refuses_the_name()
    {
        var guard = Guard(new TesseraConfiguration(Model(allowPrivate: false)), IPAddress.Parse("93.184.215.14"), IPAddress.Parse("10.0.0.7"));

        var refused = await Assert.ThrowsAsync<UpstreamAddressRefusedException>(() => guard.ConnectAsync(new DnsEndPoint("idp.example", 443), CancellationToken.None));

        Assert.Equal(IPAddress.Parse("10.0.0.7"), refused.Address);
    }

    [Fact]
    public async Task When_allowed_the_connection_goes_to_the_address_that_was_resolved()
    {
        var guard = Guard(new TesseraConfiguration(Model(allowPrivate: true)), IPAddress.Loopback);

        await using var stream = await guard.ConnectAsync(new DnsEndPoint("idp.example", Port), CancellationToken.None);
        using var accepted = await _listener.AcceptTcpClientAsync();

        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)accepted.Client.RemoteEndPoint!).Address);
    }

    [Fact]
    public async Task An_address_that_does_not_answer_gives_way_to_the_next()
    {
        // Nothing listens on 127.0.0.2 at this port: the connection there is refused, and 127.0.0.1 is tried next.
        var guard = Guard(new TesseraConfiguration(Model(allowPrivate: true)), IPAddress.Parse("127.0.0.2"), IPAddress.Loopback);

        await using var stream = await guard.ConnectAsync(new DnsEndPoint("idp.example", Port), CancellationToken.None);
        using var accepted = await _listener.AcceptTcpClientAsync();

        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)accepted.Client.RemoteEndPoint!).Address);
    }

    [Fact]
    public async Task A_connection_opened_while_allowed_sends_nothing_once_the_setting_is_turned_off()
    {
        var configuration = new TesseraConfiguration(Model(allowPrivate: true));
        var guard = Guard(configuration, IPAddress.Loopback);
        await using var stream = await guard.ConnectAsync(new DnsEndPoint("idp.example", Port), CancellationToken.None);
        using var accepted = await _listener.AcceptTcpClientAsync();

        configuration.Replace(Model(allowPrivate: false));
        var refused = await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray()));

        Assert.True(UpstreamAddressRefusedException.Caused(refused));
        Assert.Equal(0, accepted.Available);
    }
}
