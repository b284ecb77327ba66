using System.Text;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Orleans.Membership.Silo.Nats;

namespace Orleans.Membership.Tests.Nats;

/// <summary>What a new dispatcher finds on the broker and takes over, against a real nats-server.</summary>
[Collection(NatsCollection.Name), Trait("Category", "Nats")]
public sealed class NatsTopologyTests(NatsFixture nats)
{
    [Theory]
    [InlineData(StreamConfigRetention.Workqueue)] // what scripts/nats-up.sh and the engine make
    [InlineData(StreamConfigRetention.Limits)] // an operator's stream that keeps what was applied
    public async Task A_dispatcher_that_died_holding_messages_leaves_them_to_the_next_first_and_in_order(StreamConfigRetention retention)
    {
        await using var run = new NatsRun(nats, "takeover");
        await nats.JetStream.CreateStreamAsync(NatsTopology.Events(run.Options) with { Retention = retention });
        await run.CreateStreamsAsync();
        for (var i = 1; i <= 5; i++) await run.PublishAsync("default", $"m{i}");
        var first = await NatsTopology.TakeOverAsync(nats.JetStream, run.Options, run.Options.Stream, CancellationToken.None);
        // The first dispatcher is handed three messages, applies the first and dies holding the other two.
        var delivered = new List<INatsJSMsg<byte[]>>();
        await foreach (var msg in first.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 3, Expires = TimeSpan.FromSeconds(5) })) delivered.Add(msg);
        Assert.Equal(["m1", "m2", "m3"], delivered.Select(Body));
        await delivered[0].AckAsync(new AckOpts { DoubleAck = true });

        // Taken over at once (not after AckWait): the two held come first, then the rest, in publish order.
        var next = await NatsTopology.TakeOverAsync(nats.JetStream, run.Options, run.Options.Stream, CancellationToken.None);
        var again = new List<string>();
        await foreach (var msg in next.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 4, Expires = TimeSpan.FromSeconds(5) })) again.Add(Body(msg));
        Assert.Equal(["m2", "m3", "m4", "m5"], again);
    }

    [Fact]
    public async Task A_stream_that_keeps_messages_by_interest_is_refused_naming_it()
    {
        await using var run = new NatsRun(nats, "interest");
        await nats.JetStream.CreateStreamAsync(NatsTopology.Events(run.Options) with { Retention = StreamConfigRetention.Interest });
        await run.CreateStreamsAsync();
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => NatsTopology.TakeOverAsync(nats.JetStream, run.Options, run.Options.Stream, CancellationToken.None));
        Assert.Contains(run.Options.Stream, refused.Message);
        Assert.Contains("interest", refused.Message);
    }

    private static string Body(INatsJSMsg<byte[]> msg) => Encoding.UTF8.GetString(msg.Data ?? []);
}
