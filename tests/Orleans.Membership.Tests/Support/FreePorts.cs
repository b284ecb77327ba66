using System.Net;
using System.Net.Sockets;

namespace Orleans.Membership.Tests.Support;

/// <summary>Loopback ports no one listens on now, for nodes a test builds or starts beside the others (and beside a node a developer runs).</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A silo and a gateway port of their own, as node arguments.</summary>
    public static string[] SiloAndGateway() => [$"--Membership:SiloPort={Next()}", $"--Membership:GatewayPort={Next()}"];
}
