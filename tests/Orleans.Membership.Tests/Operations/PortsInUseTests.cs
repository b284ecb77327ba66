using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Membership.Silo;
using Orleans.Membership.Tests.Postgres;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Operations;

/// <summary>
/// A node given a port another node listens on refuses to start, naming the setting (docs/configuration.md):
/// Orleans' listeners reuse addresses, so without the check a second silo shares the port and has the live one declared dead.
/// </summary>
public sealed class PortsInUseTests(NodeFixture live) : IClassFixture<NodeFixture>
{
    [Theory]
    [InlineData("silo")]
    [InlineData("gateway")]
    [InlineData("http")]
    [InlineData("http-localhost")]
    public async Task A_node_given_a_port_a_live_node_listens_on_refuses_to_start_naming_the_setting(string taken)
    {
        var endpoints = live.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        var http = live.BaseAddress.Port;
        int silo = taken == "silo" ? endpoints.SiloPort : FreePorts.Next(), gateway = taken == "gateway" ? endpoints.GatewayPort : FreePorts.Next();
        var url = taken switch { "http" => $"http://127.0.0.1:{http}", "http-localhost" => $"http://localhost:{http}", _ => $"http://127.0.0.1:{FreePorts.Next()}" };

        var (exitCode, _, errors) = await RefusedSettingsTests.RunAsync("Silo",
            ["--urls", url, $"--Membership:SiloPort={silo}", $"--Membership:GatewayPort={gateway}", "--Membership:Dashboard:Enabled=false"]);

        Assert.Equal(78, exitCode);
        Assert.Equal([taken switch
        {
            "silo" => $"Refused setting: Membership:SiloPort {silo} is already in use on 127.0.0.1 (another node?)",
            "gateway" => $"Refused setting: Membership:GatewayPort {gateway} is already in use on 127.0.0.1 (another node?)",
            _ => $"Refused setting: urls {url}: port {http} is already in use on 127.0.0.1 (another node?)",
        }], errors);
        Assert.True(PortsInUse.IsListenedOn(new IPEndPoint(IPAddress.Loopback, endpoints.SiloPort)), "the live silo still listens");
    }

    [Fact]
    public async Task A_node_killed_with_connections_open_starts_again_on_its_ports_at_once()
    {
        var ports = NodeProcess.Ports.Free();
        var cluster = $"ports-{Guid.NewGuid():N}";
        using var client = new TcpClient();
        await using (var node = await NodeProcess.StartAsync("", cluster, ports))
        {
            using var silo = new TcpClient();
            await silo.ConnectAsync(IPAddress.Loopback, ports.Silo);
            await client.ConnectAsync(IPAddress.Loopback, ports.Http);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /health/live HTTP/1.1\r\nHost: node\r\n\r\n"));
            Assert.True(await stream.ReadAsync(new byte[4096]) > 0, "the node answered");
            node.Kill();
            // Read to the killed node's end, then close: its side of the connection waits in TIME_WAIT.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (await stream.ReadAsync(new byte[4096], deadline.Token) > 0) { }
            client.Close();
        }
        Assert.Contains(IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections(),
            c => c.LocalEndPoint.Port == ports.Http && c.State == TcpState.TimeWait); // the test's premise

        Assert.False(PortsInUse.IsListenedOn(new IPEndPoint(IPAddress.Loopback, ports.Http)));
        await using var again = await NodeProcess.StartAsync("", cluster, ports);
    }
}
