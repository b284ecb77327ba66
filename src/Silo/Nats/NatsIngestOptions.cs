namespace Orleans.Membership.Silo.Nats;

/// <summary>
/// <c>Membership:Streams:Nats</c>: where festival events come from (docs/streams.md, "NATS JetStream").
/// The names default to what <c>scripts/nats-up.sh</c> creates; tests give each run names of its own.
/// </summary>
public sealed class NatsIngestOptions
{
    /// <summary>The server, e.g. <c>nats://127.0.0.1:4222</c> (required).</summary>
    public string? Url { get; set; }

    public string Stream { get; set; } = "MEMBERSHIP_EVENTS";

    /// <summary>Producers publish to <c>{Subject}.{programId}</c>.</summary>
    public string Subject { get; set; } = "membership.events";

    /// <summary>The durable pull consumer the dispatcher reads through.</summary>
    public string Consumer { get; set; } = "membership-ingest";

    public string DeadLetterStream { get; set; } = "MEMBERSHIP_DEADLETTERS";

    /// <summary>A refused or unreadable message goes to <c>{DeadLetterSubject}.{programId}</c>.</summary>
    public string DeadLetterSubject { get; set; } = "membership.deadletter";

    /// <summary>
    /// Messages delivered and not yet acknowledged, at most (the consumer's MaxAckPending): all the
    /// dispatcher ever holds in memory; the rest of a backlog waits in the broker.
    /// </summary>
    public int MaxAckPending { get; set; } = 4096;

    /// <summary>Messages taken into one batch (grouped by member) at most.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Member calls in flight at once (the HTTP path's 8 batches of 64 calls).</summary>
    public int CallsAtOnce { get; set; } = 512;

    /// <summary>How long the broker waits for an acknowledgement before delivering a message again.</summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often every silo makes sure the dispatcher runs (and so how soon it restarts elsewhere).</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a stopping dispatcher lets its calls in flight finish and acknowledge before it leaves the rest to redelivery.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first problem of the settings, naming the setting, or null.</summary>
    public string? Problem()
    {
        const string Section = "Membership:Streams:Nats";
        if (string.IsNullOrWhiteSpace(Url) || !Uri.TryCreate(Url, UriKind.Absolute, out _))
        {
            return $"{Section}:Url must be the NATS server's URL (e.g. nats://127.0.0.1:4222) when Membership:Streams:Provider=nats";
        }
        if (MaxAckPending is < 1 or > 1_000_000) return $"{Section}:MaxAckPending must be from 1 to 1000000";
        if (BatchSize < 1 || BatchSize > MaxAckPending) return $"{Section}:BatchSize must be from 1 to MaxAckPending ({MaxAckPending})";
        if (CallsAtOnce is < 1 or > 100_000) return $"{Section}:CallsAtOnce must be from 1 to 100000";
        if (AckWait < TimeSpan.FromSeconds(1)) return $"{Section}:AckWait must be at least 1 second";
        if (PingInterval < TimeSpan.FromMilliseconds(100)) return $"{Section}:PingInterval must be at least 100 ms";
        // The upper bound catches a bare number, which configuration reads as days.
        if (StopTimeout < TimeSpan.FromSeconds(1) || StopTimeout > TimeSpan.FromMinutes(10)) return $"{Section}:StopTimeout must be from 1 second to 10 minutes (e.g. 00:00:05)";
        foreach (var (name, value) in new[] { ("Stream", Stream), ("Consumer", Consumer), ("DeadLetterStream", DeadLetterStream) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.IndexOfAny(['.', '*', '>', ' ']) >= 0) return $"{Section}:{name} must be a name without . * > or spaces";
        }
        foreach (var (name, value) in new[] { ("Subject", Subject), ("DeadLetterSubject", DeadLetterSubject) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.IndexOfAny(['*', '>', ' ']) >= 0 || value.EndsWith('.')) return $"{Section}:{name} must be a subject prefix without * > spaces or a trailing dot";
        }
        return null;
    }
}
