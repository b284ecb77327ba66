using Orleans.Membership.Silo.Nats;

namespace Orleans.Membership.Tests.Nats;

public sealed class NatsIngestStatsTests
{
    [Fact]
    public void A_lag_percentile_is_never_more_than_the_largest_lag_seen()
    {
        var stats = new NatsIngestStats();
        // 1 ms lies inside a bucket whose upper edge is above 1 ms.
        foreach (var ms in new[] { 0.5, 1.0, 1.0 }) stats.Lag.Record(TimeSpan.FromMilliseconds(ms));

        var counters = stats.Read(NatsIngestStates.Consuming, null, "silo", 0, 0);

        Assert.Equal(1.0, counters.LagMaxMs);
        Assert.Equal((1.0, 1.0), (counters.LagP50Ms, counters.LagP99Ms));
    }

    [Fact]
    public void The_last_error_is_shown_only_while_the_dispatcher_does_not_consume()
    {
        var stats = new NatsIngestStats();
        var error = new NatsIngestError("can not connect", DateTimeOffset.UnixEpoch);

        var connecting = stats.Read(NatsIngestStates.Connecting, error, "silo", 0, 0);
        var consuming = stats.Read(NatsIngestStates.Consuming, error, "silo", 0, 0);

        Assert.Equal((false, "connecting", "can not connect", (DateTimeOffset?)DateTimeOffset.UnixEpoch),
            (connecting.Running, connecting.State, connecting.LastError, connecting.LastErrorAt));
        Assert.Equal((true, "consuming", (string?)null, (DateTimeOffset?)null), (consuming.Running, consuming.State, consuming.LastError, consuming.LastErrorAt));
    }
}
