using System.Net;
using System.Net.Sockets;

namespace Orleans.Membership.Tests.Support;

/// <summary>
/// A loopback TCP proxy between a node and a server (PostgreSQL) that a test can cut and restore: an outage
/// of that server for this node alone, while the server itself keeps serving everyone else. Cut refuses new
/// connections (nothing listens on the port) and resets the open ones.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly Lock _gate = new();
    private readonly List<Socket> _open = [];
    private readonly CancellationTokenSource _disposed = new();
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    public int Port { get; }

    private TcpProxy(IPEndPoint target, int port)
    {
        _target = target;
        Port = port;
    }

    public static TcpProxy Start(string targetHost, int targetPort)
    {
        var target = new IPEndPoint(Dns.GetHostAddresses(targetHost).First(a => a.AddressFamily == AddressFamily.InterNetwork), targetPort);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var proxy = new TcpProxy(target, port);
        proxy.Restore();
        return proxy;
    }

    /// <summary>A PostgreSQL connection string whose host and port are this proxy's.</summary>
    public static (TcpProxy Proxy, string ConnectionString) ForPostgres(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var proxy = Start(builder.Host!, builder.Port);
        builder.Host = "127.0.0.1";
        builder.Port = proxy.Port;
        return (proxy, builder.ConnectionString);
    }

    /// <summary>The outage: new connections are refused and open ones are reset.</summary>
    public void Cut()
    {
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var socket in _open) Reset(socket);
            _open.Clear();
        }
    }

    /// <summary>The server is back: connections are accepted and relayed again.</summary>
    public void Restore()
    {
        lock (_gate)
        {
            if (_listener is not null) return;
            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listener = listener;
            _accepting = AcceptAsync(listener);
        }
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_disposed.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_disposed.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return; // cut or disposed
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(_target, _disposed.Token);
        }
        catch
        {
            Reset(client);
            server.Dispose();
            return;
        }
        lock (_gate)
        {
            if (_listener is null)
            {
                Reset(client);
                Reset(server);
                return;
            }
            _open.Add(client);
            _open.Add(server);
        }
        await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        lock (_gate)
        {
            _open.Remove(client);
            _open.Remove(server);
        }
        client.Dispose();
        server.Dispose();
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _disposed.Token);
                if (read == 0) break;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _disposed.Token);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // close with a reset, as a dead server's host would
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Cut();
        await _disposed.CancelAsync();
        await _accepting;
        _disposed.Dispose();
    }
}
