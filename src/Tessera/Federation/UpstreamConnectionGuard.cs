using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>Resolves a host name to the addresses a connection may try: the system resolver, unless a test stands in.</summary>
public delegate Task<IPAddress[]> UpstreamHostResolver(string host, CancellationToken cancellationToken);

/// <summary>
/// The connect step of the upstream HTTP client, which every fetch from a customer-configured URL goes through. It
/// resolves the host itself, refuses when any address is not public (<see cref="UpstreamAddressPolicy"/>) unless
/// <c>Network.AllowPrivateUpstreams</c> is on, and connects to an address it checked: what was checked is what is
/// reached, so a name that answers differently a moment later (DNS rebinding) gains nothing. The setting is read from
/// the model in force at every connection, and a pooled connection to a private address stops sending once the
/// setting is turned off.
/// </summary>
public sealed partial class UpstreamConnectionGuard(TesseraConfiguration configuration, UpstreamHostResolver resolve, ILogger<UpstreamConnectionGuard> logger)
{
    private bool AllowsPrivate => configuration.Current.Network.AllowPrivateUpstreams;

    /// <summary>For <see cref="SocketsHttpHandler.ConnectCallback"/>.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        await ConnectAsync(context.DnsEndPoint, cancellationToken);

    public async Task<Stream> ConnectAsync(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var addresses = await resolve(endPoint.Host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.NameResolutionError, $"'{endPoint.Host}' has no address");
        }

        // One private answer refuses the name: otherwise a name answering with a public and a private address
        // would reach the private one whenever the public one is down.
        if (!AllowsPrivate)
        {
            foreach (var address in addresses)
            {
                if (UpstreamAddressPolicy.NonPublicRange(address) is { } range)
                {
                    LogRefused(endPoint.Host, address.ToString(), range);
                    throw new UpstreamAddressRefusedException(endPoint.Host, address, range);
                }
            }
        }

        ExceptionDispatchInfo? failure = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken);
                return UpstreamAddressPolicy.IsPublic(address)
                    ? new NetworkStream(socket, ownsSocket: true)
                    : new PrivateNetworkStream(socket, endPoint.Host, address, this);
            }
            catch (SocketException exception)
            {
                socket.Dispose();
                failure = ExceptionDispatchInfo.Capture(exception); // try the next address
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        failure!.Throw();
        throw new UnreachableException();
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Upstream connection to {Host} refused: {Address} is {Range}, and Network.AllowPrivateUpstreams is off")]
    private partial void LogRefused(string host, string address, string range);

    /// <summary>
    /// A connection to a private address, made while that was allowed: it refuses to send once it no longer is, so
    /// the client's pool cannot keep using it after a reload. The client then opens a new connection, which is refused.
    /// </summary>
    private sealed class PrivateNetworkStream(Socket socket, string host, IPAddress address, UpstreamConnectionGuard guard) : NetworkStream(socket, ownsSocket: true)
    {
        private void EnsureAllowed()
        {
            if (!guard.AllowsPrivate)
            {
                var range = UpstreamAddressPolicy.NonPublicRange(address)!;
                guard.LogRefused(host, address.ToString(), range);
                throw new IOException("The connection was closed: private upstreams are no longer allowed.", new UpstreamAddressRefusedException(host, address, range));
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            EnsureAllowed();
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            EnsureAllowed();
            base.Write(buffer);
        }

        public override void WriteByte(byte value)
        {
            EnsureAllowed();
            base.WriteByte(value);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            EnsureAllowed();
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            EnsureAllowed();
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state)
        {
            EnsureAllowed();
            return base.BeginWrite(buffer, offset, count, callback, state);
        }
    }
}

/// <summary>An upstream connection refused because its address is not public and private upstreams are not allowed.</summary>
public sealed class UpstreamAddressRefusedException(string host, IPAddress address, string range)
    : HttpRequestException(HttpRequestError.ConnectionError,
        $"Refused to connect to '{host}' at {address}: the address is private ({range}); set Network.AllowPrivateUpstreams to true to allow private upstreams")
{
    /// <summary>Why a fetch failed, in words for an error page and the audit log; the log names the host and address.</summary>
    public const string Reason = "its address is private, and Network.AllowPrivateUpstreams is off";

    public IPAddress Address { get; } = address;

    /// <summary>Whether the refusal is what made <paramref name="exception"/> (wrapped by the HTTP client or a metadata library) happen.</summary>
    public static bool Caused(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is UpstreamAddressRefusedException)
            {
                return true;
            }
        }

        return false;
    }
}
