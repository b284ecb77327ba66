using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Orleans.Membership.Silo.Nats;

/// <summary>
/// The JetStream streams and the consumer the engine needs. scripts/nats-up.sh creates the same streams
/// (keep them in step); the engine creates them only when missing, so an operator's sizing stays.
/// </summary>
public static class NatsTopology
{
    private const int StreamNotFound = 10059;
    private const int StreamNameInUse = 10058;
    private const int ConsumerNotFound = 10014;

    /// <summary>
    /// Events: a work queue (an event leaves the broker once applied, so the stream holds the backlog);
    /// when full it refuses new publishes instead of dropping events not yet applied; a publish repeated
    /// with the same <c>Nats-Msg-Id</c> within two minutes is stored once.
    /// </summary>
    public static StreamConfig Events(NatsIngestOptions o) => new(o.Stream, [$"{o.Subject}.>"])
    {
        Retention = StreamConfigRetention.Workqueue,
        Storage = StreamConfigStorage.File,
        Discard = StreamConfigDiscard.New,
        MaxBytes = 8L << 30,
        DuplicateWindow = TimeSpan.FromMinutes(2),
    };

    /// <summary>Dead letters: kept 30 days for an operator to read and replay.</summary>
    public static StreamConfig DeadLetters(NatsIngestOptions o) => new(o.DeadLetterStream, [$"{o.DeadLetterSubject}.>"])
    {
        Retention = StreamConfigRetention.Limits,
        Storage = StreamConfigStorage.File,
        Discard = StreamConfigDiscard.Old,
        MaxAge = TimeSpan.FromDays(30),
        DuplicateWindow = TimeSpan.FromMinutes(2),
    };

    /// <summary>
    /// Why no producer can publish events of a program, or null when one can: its subject
    /// <c>{Subject}.{programId}</c> is tokens between dots, none of them empty, and a program id may start
    /// or end with a dot or hold two in a row.
    /// </summary>
    public static string? WhyNoSubject(string programId) =>
        programId.StartsWith('.') ? "it starts with a dot"
        : programId.EndsWith('.') ? "it ends with a dot"
        : programId.Contains("..", StringComparison.Ordinal) ? "it holds two dots in a row"
        : null;

    /// <summary>
    /// Makes sure events and dead letters have a stream and returns the events stream's name: the configured
    /// stream when it exists, else a stream someone else made that already stores the subjects (a producer's
    /// own, made before the engine first started), else the configured stream, created.
    /// </summary>
    public static async Task<string> EnsureStreamsAsync(INatsJSContext js, NatsIngestOptions o, CancellationToken cancellationToken)
    {
        var events = await EnsureAsync(js, Events(o), cancellationToken);
        await EnsureAsync(js, DeadLetters(o), cancellationToken);
        return events;
    }

    private static async Task<string> EnsureAsync(INatsJSContext js, StreamConfig config, CancellationToken cancellationToken)
    {
        try
        {
            await js.GetStreamAsync(config.Name!, cancellationToken: cancellationToken);
            return config.Name!;
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == StreamNotFound)
        {
        }
        // nats-server refuses a second stream whose subjects overlap an existing one's.
        await foreach (var name in js.ListStreamNamesAsync(config.Subjects!.First(), cancellationToken)) return name;
        try
        {
            await js.CreateStreamAsync(config, cancellationToken);
        }
        catch (NatsJSApiException again) when (again.Error.ErrCode == StreamNameInUse)
        {
            // Another silo created it meanwhile.
        }
        return config.Name!;
    }

    /// <summary>
    /// The consumer, delivering from <paramref name="ackFloor"/> + 1 (0: from the start). A work queue holds
    /// only what no one acknowledged, and nats-server takes nothing but "all" for it: the same messages.
    /// </summary>
    private static ConsumerConfig Consumer(NatsIngestOptions o, ulong ackFloor, StreamConfigRetention retention)
    {
        var fromStart = ackFloor == 0 || retention == StreamConfigRetention.Workqueue;
        return new(o.Consumer)
        {
            DurableName = o.Consumer,
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = o.AckWait,
            MaxAckPending = o.MaxAckPending,
            MaxDeliver = -1,
            FilterSubject = $"{o.Subject}.>",
            DeliverPolicy = fromStart ? ConsumerConfigDeliverPolicy.All : ConsumerConfigDeliverPolicy.ByStartSequence,
            OptStartSeq = fromStart ? 0 : ackFloor + 1,
        };
    }

    /// <summary>
    /// Takes the consumer over for a new dispatcher. When the one before left messages delivered but not
    /// acknowledged (it died, or stopped mid-batch), the consumer is made again from its ack floor: those
    /// messages then come first and in publish order, before anything newer, so no member's later event
    /// overtakes an earlier one that was never applied. (Left alone, they would come back only when their
    /// AckWait ran out, after newer ones.) Any among them already applied are duplicates. A consumer whose
    /// settings differ from these is made again the same way.
    /// </summary>
    public static async Task<INatsJSConsumer> TakeOverAsync(INatsJSContext js, NatsIngestOptions o, string stream, CancellationToken cancellationToken)
    {
        var retention = (await js.GetStreamAsync(stream, cancellationToken: cancellationToken)).Info.Config.Retention;
        // Deleting the consumer of an interest stream would delete the backlog with it.
        if (retention == StreamConfigRetention.Interest)
        {
            throw new InvalidOperationException($"NATS stream {stream} keeps messages by interest: the engine needs a work-queue (as scripts/nats-up.sh makes it) or limits stream");
        }
        INatsJSConsumer existing;
        try
        {
            existing = await js.GetConsumerAsync(stream, o.Consumer, cancellationToken);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == ConsumerNotFound)
        {
            return await js.CreateOrUpdateConsumerAsync(stream, Consumer(o, 0, retention), cancellationToken);
        }
        var info = existing.Info;
        if (info.NumAckPending == 0 && info.Config.MaxAckPending == o.MaxAckPending && info.Config.AckWait == o.AckWait
            && info.Config.FilterSubject == $"{o.Subject}.>")
        {
            return existing;
        }
        await js.DeleteConsumerAsync(stream, o.Consumer, cancellationToken);
        return await js.CreateOrUpdateConsumerAsync(stream, Consumer(o, info.AckFloor.StreamSeq, retention), cancellationToken);
    }
}
