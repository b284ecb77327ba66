using System.Net;
using System.Net.Sockets;
using Orleans.Membership.Api.Operations;

namespace Orleans.Membership.Silo;

/// <summary>
/// The node's silo, gateway and HTTP ports are checked free before anything starts: Orleans listens with address
/// reuse (SO_REUSEPORT on Linux), so a port a live node holds would be shared, and that node declared dead, not refused.
/// </summary>
public static class PortsInUse
{
    /// <summary>Refuses the first setting whose port something listens on, where this node would listen.</summary>
    public static void Check(IConfiguration configuration, IPAddress listenAddress, int siloPort, int gatewayPort)
    {
        Refuse($"Membership:SiloPort {siloPort}", siloPort, [listenAddress]);
        Refuse($"Membership:GatewayPort {gatewayPort}", gatewayPort, [listenAddress]);
        // Kestrel's endpoints from configuration replace the urls when there are any.
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Select(e => (Key: $"Kestrel:Endpoints:{e.Key}:Url", Url: e["Url"]))
            .ToList();
        if (endpoints.Count == 0)
        {
            endpoints = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(url => (Key: "urls", Url: (string?)url))
                .ToList();
        }
        foreach (var (key, url) in endpoints)
        {
            if (Http(url) is not { } http) continue;
            Refuse($"{key} {url}: port {http.Port}", http.Port, http.Addresses);
        }
    }

    /// <summary>
    /// Whether a socket listens on <paramref name="endpoint"/>. A port a killed node left in TIME_WAIT is free: the probe
    /// binds with SO_REUSEADDR alone (.NET's ReuseAddress adds SO_REUSEPORT on Linux and would bind beside the listener).
    /// </summary>
    public static bool IsListenedOn(IPEndPoint endpoint)
    {
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && !Socket.OSSupportsIPv6) return false; // nothing listens there
        using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // .NET's Bind on Linux sets it too; set here, the probe does not rest on that.
        if (OperatingSystem.IsLinux()) probe.SetRawSocketOption(1, 2, BitConverter.GetBytes(1)); // SOL_SOCKET, SO_REUSEADDR
        try
        {
            probe.Bind(endpoint);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode != SocketError.AddressAlreadyInUse)
        {
            return false; // not this check's to tell (no IPv6, an address not on this host): the listener's own bind says
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <param name="setting">the setting and its port, as the refusal names them</param>
    private static void Refuse(string setting, int port, IEnumerable<IPAddress> addresses)
    {
        foreach (var address in addresses)
        {
            if (IsListenedOn(new IPEndPoint(address, port)))
            {
                throw MembershipSettings.Refused($"{setting} is already in use on {address} (another node?)");
            }
        }
    }

    /// <summary>The port and addresses Kestrel binds for a URL, or null when there is nothing to check (port 0, a pipe, a URL it will refuse itself).</summary>
    private static (int Port, IPAddress[] Addresses)? Http(string? url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url ?? "");
        }
        catch (FormatException)
        {
            return null;
        }
        if (address.IsUnixPipe || address.IsNamedPipe || address.Port == 0) return null;
        var host = address.Host.Trim('[', ']');
        IPAddress[] addresses = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? [IPAddress.Loopback, IPAddress.IPv6Loopback]
            : IPAddress.TryParse(host, out var ip) ? [ip]
            : [IPAddress.Any, IPAddress.IPv6Any]; // '*', '+' or a host name: Kestrel listens on every address
        return (address.Port, addresses);
    }
}
