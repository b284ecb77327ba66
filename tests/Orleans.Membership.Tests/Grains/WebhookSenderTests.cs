using System.Net;
using System.Net.Sockets;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;
using Orleans.Membership.Tests.Api;

namespace Orleans.Membership.Tests.Grains;

/// <summary>
/// One delivery against real sockets on this machine: the address is checked where the connection is made
/// (a name is connected only at its allowed addresses), redirects are not followed, and a failure is told
/// as a coarse cause.
/// </summary>
public sealed class WebhookSenderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly MemberChange Change = new("m1:7", MemberChangeTypes.PointsRedeemed, "default", "m1", DateTimeOffset.UnixEpoch) { Points = 100 };

    private static WebhookSender Sender(params string[] allowedNetworks) => new(TimeProvider.System, new WebhookAddresses(allowedNetworks));

    private static WebhookTarget Target(string url) => new(url, "a-secret-of-some-length");

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task A_loopback_target_is_not_connected_without_an_allow_list()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var port = new Uri(receiver.Url).Port;
        var sender = Sender();
        Assert.Equal("blocked-address", await sender.SendAsync(Target(receiver.Url), Change, Timeout));
        // A name is checked at the addresses it resolves to when the connection is made.
        Assert.Equal("blocked-address", await sender.SendAsync(Target($"http://localhost:{port}/hook"), Change, Timeout));
        Assert.Equal(0, receiver.Requests);
    }

    [Fact]
    public async Task A_name_is_connected_only_at_its_allowed_addresses()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var port = new Uri(receiver.Url).Port;
        // localhost may resolve to ::1 as well: only 127.0.0.0/8 is allowed, and the receiver listens there.
        Assert.Null(await Sender("127.0.0.0/8").SendAsync(Target($"http://localhost:{port}/hook"), Change, Timeout));
        Assert.Equal("m1:7", (await receiver.Accepted("m1:7")).Id);
    }

    [Fact]
    public async Task A_redirect_is_not_followed()
    {
        await using var elsewhere = await WebhookReceiver.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RedirectTo = elsewhere.Url;
        Assert.Equal("http-307", await Sender("127.0.0.0/8").SendAsync(Target(receiver.Url), Change, Timeout));
        Assert.Equal(1, receiver.Requests);
        Assert.Equal(0, elsewhere.Requests);
    }

    [Fact]
    public async Task Each_failure_is_a_coarse_cause()
    {
        var sender = Sender("127.0.0.0/8");
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RefuseFirst = int.MaxValue;
        Assert.Equal("http-500", await sender.SendAsync(Target(receiver.Url), Change, Timeout));
        Assert.Equal("refused", await sender.SendAsync(Target($"http://127.0.0.1:{ClosedPort()}/hook"), Change, Timeout));
        // TLS to a port that speaks plain HTTP.
        Assert.Equal("tls", await sender.SendAsync(Target($"https://127.0.0.1:{new Uri(receiver.Url).Port}/hook"), Change, Timeout));

        // A listener that takes the connection and never answers.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepting = silent.AcceptTcpClientAsync();
        Assert.Equal("timeout", await sender.SendAsync(Target($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/hook"), Change, TimeSpan.FromMilliseconds(300)));
        (await accepting).Dispose();
    }

    [Fact]
    public void A_name_that_does_not_resolve_is_a_dns_failure()
    {
        // Built rather than looked up: whether a resolver answers at once depends on the machine's network.
        var notFound = new HttpRequestException(HttpRequestError.ConnectionError, "no such host", new SocketException((int)SocketError.HostNotFound));
        Assert.Equal("dns", WebhookSender.Cause(notFound));
        Assert.Equal("dns", WebhookSender.Cause(new HttpRequestException(HttpRequestError.NameResolutionError, "no such host")));
        Assert.Equal("blocked-address", WebhookSender.Cause(new HttpRequestException(HttpRequestError.ConnectionError, "x", new WebhookAddressRefusedException("db.internal"))));
    }
}
