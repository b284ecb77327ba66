using Microsoft.Extensions.DependencyInjection;
using Orleans.Membership.Silo;
using Orleans.Membership.Silo.Nats;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Nats;

/// <summary><c>Membership:Streams:Nats</c> as a node reads it at start (no broker is needed to build a node).</summary>
public sealed class NatsIngestOptionsTests
{
    private static string[] Node(params string[] settings) =>
        ["--urls", "http://127.0.0.1:0", .. FreePorts.SiloAndGateway(), "--Membership:Streams:Provider=nats", "--Membership:Streams:Nats:Url=nats://127.0.0.1:4222", .. settings];

    [Fact]
    public async Task The_dispatchers_stop_budget_is_five_seconds_unless_set()
    {
        await using var unset = MembershipNode.Build(Node());
        Assert.Equal(TimeSpan.FromSeconds(5), unset.Services.GetRequiredService<NatsIngestOptions>().StopTimeout);
        await using var set = MembershipNode.Build(Node("--Membership:Streams:Nats:StopTimeout=00:00:30"));
        Assert.Equal(TimeSpan.FromSeconds(30), set.Services.GetRequiredService<NatsIngestOptions>().StopTimeout);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("00:00:00.500")]
    [InlineData("-00:00:05")]
    [InlineData("5")] // five days, as configuration reads a bare number
    [InlineData("00:10:01")]
    public void A_node_with_a_stop_budget_out_of_range_is_refused_naming_it(string value)
    {
        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => MembershipNode.Build(Node($"--Membership:Streams:Nats:StopTimeout={value}")));
        Assert.StartsWith("Membership:Streams:Nats:StopTimeout must be", e.Message);
    }
}
