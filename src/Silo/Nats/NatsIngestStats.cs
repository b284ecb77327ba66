namespace Orleans.Membership.Silo.Nats;

/// <summary>
/// What the dispatcher has done since it started in its current silo (<c>GET /v1/diagnostics/nats</c>):
/// whether it consumes now (<see cref="NatsIngestStates"/>) and, when not, the last error; messages received, applied (accepted), duplicates, dead-lettered (malformed or rejected), deliveries
/// seen again, failed member calls; messages held now and members whose call is being retried; the lag
/// from broker to ledger.
/// </summary>
[GenerateSerializer, Immutable, Alias("nats-ingest-counters")]
public sealed record NatsIngestCounters(
    [property: Id(0)] bool Running,
    [property: Id(16)] string State,
    [property: Id(17)] string? LastError,
    [property: Id(18)] DateTimeOffset? LastErrorAt,
    [property: Id(1)] string Silo,
    [property: Id(2)] long Received,
    [property: Id(3)] long Accepted,
    [property: Id(4)] long Duplicates,
    [property: Id(5)] long DeadLettered,
    [property: Id(6)] long Malformed,
    [property: Id(7)] long Rejected,
    [property: Id(8)] long Redelivered,
    [property: Id(9)] long FailedCalls,
    [property: Id(10)] int Holding,
    [property: Id(15)] int RetryingMembers,
    [property: Id(11)] double LagP50Ms,
    [property: Id(12)] double LagP99Ms,
    [property: Id(13)] double LagMaxMs,
    [property: Id(14)] long[] LagBuckets)
{
    /// <summary>Bucket i counts lags below <see cref="LagBucketUpperMs"/>(i) (and at or above the bucket before).</summary>
    public static double LagBucketUpperMs(int i) => LagHistogram.UpperMs(i);
}

/// <summary>What the dispatcher in a silo is doing: <c>running</c> is true in <see cref="Consuming"/> only.</summary>
public static class NatsIngestStates
{
    /// <summary>It holds the consumer and pulls.</summary>
    public const string Consuming = "consuming";
    /// <summary>It runs but does not consume: the broker is away, the stream was refused, or it takes the consumer over again.</summary>
    public const string Connecting = "connecting";
    /// <summary>It does not run in this silo.</summary>
    public const string Stopped = "stopped";
}

/// <summary>Why the dispatcher does not consume, and since when.</summary>
public sealed record NatsIngestError(string Message, DateTimeOffset At);

/// <summary>
/// Lag from the broker's store timestamp of a message to the return of its member's call (the ledger
/// commit), in buckets 4% wide from 0.1 ms to ~10 minutes: cheap to count from any thread, and two
/// readings subtracted give the percentiles of a window (the load-test scenario <c>stream</c> does).
/// </summary>
public sealed class LagHistogram
{
    public const int Buckets = 400;
    private const double FirstMs = 0.1;
    private static readonly double LogBase = Math.Log(1.04);
    private readonly long[] _counts = new long[Buckets];
    private long _maxMicros;

    public static double UpperMs(int i) => FirstMs * Math.Pow(1.04, i);

    public void Record(TimeSpan lag)
    {
        var ms = Math.Max(0, lag.TotalMilliseconds);
        var bucket = ms < FirstMs ? 0 : Math.Min(Buckets - 1, 1 + (int)(Math.Log(ms / FirstMs) / LogBase));
        Interlocked.Increment(ref _counts[bucket]);
        var micros = (long)(ms * 1000);
        for (var max = Volatile.Read(ref _maxMicros); micros > max; max = Volatile.Read(ref _maxMicros))
        {
            if (Interlocked.CompareExchange(ref _maxMicros, micros, max) == max) break;
        }
    }

    public long[] Snapshot()
    {
        var copy = new long[Buckets];
        for (var i = 0; i < Buckets; i++) copy[i] = Volatile.Read(ref _counts[i]);
        return copy;
    }

    public double MaxMs => Volatile.Read(ref _maxMicros) / 1000.0;

    /// <summary>The upper edge of the bucket holding quantile <paramref name="q"/> of <paramref name="counts"/>, or 0 when empty.</summary>
    public static double Percentile(long[] counts, double q)
    {
        var total = counts.Sum();
        if (total == 0) return 0;
        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= Math.Max(1, rank)) return Math.Round(UpperMs(i), 2);
        }
        return Math.Round(UpperMs(counts.Length - 1), 2);
    }
}

/// <summary>The dispatcher's counters, incremented from its member calls.</summary>
public sealed class NatsIngestStats
{
    public long Received;
    public long Accepted;
    public long Duplicates;
    public long Malformed;
    public long Rejected;
    public long Redelivered;
    public long FailedCalls;
    public readonly LagHistogram Lag = new();

    /// <param name="error">the last error, shown unless consuming</param>
    public NatsIngestCounters Read(string state, NatsIngestError? error, string silo, int holding, int retrying)
    {
        var lag = Lag.Snapshot();
        long Get(ref long field) => Volatile.Read(ref field);
        var malformed = Get(ref Malformed);
        var rejected = Get(ref Rejected);
        var max = Lag.MaxMs;
        if (state == NatsIngestStates.Consuming) error = null;
        // A percentile is its bucket's upper edge: never more than the largest lag seen.
        return new NatsIngestCounters(state == NatsIngestStates.Consuming, state, error?.Message, error?.At, silo, Get(ref Received), Get(ref Accepted),
            Get(ref Duplicates), malformed + rejected, malformed, rejected, Get(ref Redelivered), Get(ref FailedCalls), holding, retrying,
            Math.Min(LagHistogram.Percentile(lag, 0.50), max), Math.Min(LagHistogram.Percentile(lag, 0.99), max), max, lag);
    }
}
