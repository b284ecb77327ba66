using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Threading.Channels;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Silo.Nats;

/// <summary>
/// The dispatcher's work, run in the silo that holds <see cref="IEventDispatcherGrain"/>: pulls the events
/// stream, applies each message through its member grain and acknowledges it only after the call returned
/// (the member's ledger append committed); a message that cannot be read or that its member refuses is
/// stored in the dead letters first, then terminated. Each message is one call, one write, as a POST of
/// that one event would be; a member's calls run one after another in stream order, members in parallel,
/// <see cref="NatsIngestOptions.CallsAtOnce"/> calls at once. A failed call is retried (its messages kept from redelivery meanwhile), never skipped, so no
/// later event of that member overtakes it. At-least-once from the broker and idempotent members
/// (by eventId) make the effect exactly once. It stops with its silo before the silo deactivates grains and
/// stops its runtime, so no call of it meets a stopping runtime.
/// </summary>
public sealed partial class NatsEventPump(
    NatsIngestOptions options,
    NatsConnection nats,
    IGrainFactory grains,
    ProgramCatalog programs,
    TimeProvider clock,
    ILocalSiloDetails silo,
    IMeterFactory meters,
    ILogger<NatsEventPump> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly NatsJSContext _js = new(nats);
    private readonly string _prefix = options.Subject + ".";
    private readonly SemaphoreSlim _calls = new(options.CallsAtOnce);
    private readonly NatsIngestStats _stats = new();
    private readonly Lock _gate = new();
    private CancellationTokenSource? _fetching;
    private CancellationTokenSource? _stopping;
    private Task? _run;
    /// <summary>Its silo stops: the pump does not start again in it.</summary>
    private bool _siloStopping;
    /// <summary>It holds the consumer and pulls (the run is past taking the consumer over, and connected).</summary>
    private volatile bool _consuming;
    private volatile NatsIngestError? _lastError;

    /// <summary>A message held until acknowledged; a redelivery of it meanwhile replaces the handle to acknowledge.</summary>
    private sealed class Delivery(INatsJSMsg<byte[]> msg, ulong seq)
    {
        public volatile INatsJSMsg<byte[]> Msg = msg;
        public readonly ulong Seq = seq;
        public ScoringEvent? Event;
    }

    /// <summary>A member's calls, chained: each waits for the one before.</summary>
    private sealed class MemberLine
    {
        public Task Tail = Task.CompletedTask;
        public int Calls;
    }

    private readonly ConcurrentDictionary<ulong, Delivery> _held = new();
    private readonly Dictionary<string, MemberLine> _lines = new(StringComparer.Ordinal);
    private readonly Lock _linesGate = new();
    private readonly ConcurrentDictionary<Task, byte> _work = new();
    private int _retrying;
    private bool _tookOver;
    /// <summary>The events stream this run reads (<see cref="NatsTopology.EnsureStreamsAsync"/>).</summary>
    private string _stream = options.Stream;

    public NatsIngestCounters Counters()
    {
        bool running;
        lock (_gate) running = _run is { IsCompleted: false };
        var state = !running ? NatsIngestStates.Stopped : _consuming ? NatsIngestStates.Consuming : NatsIngestStates.Connecting;
        return _stats.Read(state, _lastError, silo.SiloAddress.ToString(), _held.Count, Volatile.Read(ref _retrying));
    }

    /// <summary>
    /// Joins its silo (every silo makes its pump as it starts): the counters become instruments of the
    /// engine's meter, and the pump stops before any stage of the runtime's own stop (the highest stage stops
    /// first), so its calls in flight finish while member grains still answer.
    /// </summary>
    public void Participate(ISiloLifecycle lifecycle)
    {
        NatsIngestMetrics.Observe(meters, Counters);
        lifecycle.Subscribe(nameof(NatsEventPump), ServiceLifecycleStage.Active + 1, _ => Task.CompletedTask, async cancellationToken =>
        {
            lock (_gate) _siloStopping = true;
            await StopAsync(cancellationToken);
        });
    }

    /// <summary>Starts the pump unless it runs or its silo stops (the grain's activation and every ping call it).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_run is { IsCompleted: false } || _siloStopping) return;
            _fetching = new CancellationTokenSource();
            _stopping = new CancellationTokenSource();
            var (fetching, stopping) = (_fetching.Token, _stopping.Token);
            _run = Task.Run(() => RunAsync(fetching, stopping));
        }
    }

    /// <summary>Stops pulling, lets the calls in flight finish and acknowledge (<see cref="NatsIngestOptions.StopTimeout"/> at most), then abandons the rest to redelivery.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task? run;
        lock (_gate)
        {
            run = _run;
            _fetching?.Cancel();
        }
        if (run is null) return;
        try
        {
            await run.WaitAsync(options.StopTimeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }
        lock (_gate) _stopping?.Cancel();
        await run;
    }

    private async Task RunAsync(CancellationToken fetching, CancellationToken stopping)
    {
        var failures = 0;
        while (!fetching.IsCancellationRequested)
        {
            _tookOver = false;
            try
            {
                await PumpAsync(fetching, stopping);
            }
            catch (Exception e) when (!fetching.IsCancellationRequested)
            {
                _lastError = new NatsIngestError(e.Message, clock.GetUtcNow());
                // A run that got going starts the count again; failures in a row (the broker is away) are logged once a minute or so.
                if (_tookOver) failures = 0;
                if (failures++ % 60 == 0) LogPumpFailed(e, failures);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), clock, fetching);
                }
                catch (OperationCanceledException)
                {
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task PumpAsync(CancellationToken fetching, CancellationToken stopping)
    {
        // This run's own stop: a failure ends it, and what it holds goes back to the broker for the next run.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        using var pulling = CancellationTokenSource.CreateLinkedTokenSource(fetching, failed.Token);
        // Reconnected (the broker restarted, or the link broke): the pull died with the old connection, and
        // deliveries lost on it would come back only after AckWait, behind newer ones. The next run takes the
        // consumer over from its ack floor, as after a dispatcher's death.
        var reconnected = false;
        ValueTask Reconnected(object? sender, NatsEventArgs args)
        {
            LogReconnected(args.Message);
            reconnected = true;
            failed.Cancel();
            return ValueTask.CompletedTask;
        }
        ValueTask Disconnected(object? sender, NatsEventArgs args)
        {
            _consuming = false;
            _lastError = new NatsIngestError($"the connection to NATS was lost ({args.Message})", clock.GetUtcNow());
            return ValueTask.CompletedTask;
        }
        try
        {
            _stream = await NatsTopology.EnsureStreamsAsync(_js, options, pulling.Token);
            var consumer = await NatsTopology.TakeOverAsync(_js, options, _stream, pulling.Token);
            _tookOver = true;
            nats.ConnectionOpened += Reconnected;
            nats.ConnectionDisconnected += Disconnected;
            // Lost between taking over and here: the handler missed it, and the run ends on the next pull.
            _consuming = nats.ConnectionState == NatsConnectionState.Open;
            LogPumping(_stream, options.Consumer);
            var inbox = Channel.CreateBounded<INatsJSMsg<byte[]>>(new BoundedChannelOptions(options.BatchSize) { SingleReader = true, SingleWriter = true });
            var reading = Task.Run(async () =>
            {
                try
                {
                    await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = options.BatchSize }, cancellationToken: pulling.Token))
                    {
                        await inbox.Writer.WriteAsync(msg, pulling.Token);
                    }
                    inbox.Writer.TryComplete();
                }
                catch (Exception e)
                {
                    inbox.Writer.TryComplete(e);
                }
            });
            var batch = new List<INatsJSMsg<byte[]>>(options.BatchSize);
            while (await inbox.Reader.WaitToReadAsync(pulling.Token))
            {
                batch.Clear();
                while (batch.Count < options.BatchSize && inbox.Reader.TryRead(out var msg)) batch.Add(msg);
                await DispatchAsync(batch, pulling.Token, failed);
            }
            await reading;
        }
        catch (OperationCanceledException) when (reconnected && !fetching.IsCancellationRequested)
        {
        }
        catch (Exception) when (!fetching.IsCancellationRequested)
        {
            // A batch that could not be dispatched ends the run: its reader stops pulling too.
            await failed.CancelAsync();
            throw;
        }
        catch (OperationCanceledException) when (fetching.IsCancellationRequested)
        {
        }
        finally
        {
            _consuming = false;
            nats.ConnectionOpened -= Reconnected;
            nats.ConnectionDisconnected -= Disconnected;
            // Whatever ends the run, its calls finish (or give up when stopped) before the next run takes the consumer over.
            try
            {
                // Calls cancelled by a failure end cancelled: the failure, not their cancellation, is what the run reports.
                await Task.WhenAll(_work.Keys).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            finally
            {
                _held.Clear();
            }
        }
    }

    /// <summary>Reads a batch, sends what cannot be applied to the dead letters, and queues the rest on their members' lines.</summary>
    /// <param name="pulling">cancelled when the run ends or the pump stops: no call starts after it</param>
    private async Task DispatchAsync(List<INatsJSMsg<byte[]>> batch, CancellationToken pulling, CancellationTokenSource failed)
    {
        var now = clock.GetUtcNow();
        foreach (var msg in batch)
        {
            var seq = msg.Metadata?.Sequence.Stream ?? 0;
            if (msg.Metadata?.NumDelivered > 1) Interlocked.Increment(ref _stats.Redelivered);
            if (_held.TryGetValue(seq, out var held))
            {
                // Still on its member's line (a call that waits or is retried outlived AckWait): acknowledge the newest delivery.
                held.Msg = msg;
                continue;
            }
            Interlocked.Increment(ref _stats.Received);
            var delivery = new Delivery(msg, seq);
            _held[seq] = delivery;
            var programId = msg.Subject.StartsWith(_prefix, StringComparison.Ordinal) ? msg.Subject[_prefix.Length..] : msg.Subject;
            var reading = await ReadAsync(delivery.Msg, programId, now);
            if (reading.Problem is { } problem)
            {
                Track(DeadLetterAsync(delivery, programId, problem, failed.Token));
                continue;
            }
            // No occurredAt: the event happened when the broker took it, not when a backlog reaches its member.
            delivery.Event = reading.Event!.OccurredAt is null && msg.Metadata?.Timestamp is { } stored ? reading.Event with { ReceivedAt = stored } : reading.Event;
            Enqueue(MemberKeys.Of(programId, reading.MemberId!), delivery, pulling, failed);
        }
    }

    private readonly record struct Reading(string? MemberId, ScoringEvent? Event, DeadLetter? Problem);

    /// <summary>
    /// Why a message is not applied: its kind (malformed, rejected), the field, the reason in the HTTP API's
    /// words, and the code a client switches on (<see cref="DeadLetterHeaders.Code"/>).
    /// </summary>
    public sealed record DeadLetter(string Kind, string? Field, string Reason, string Code)
    {
        public static DeadLetter Malformed(string field, string reason) => new("malformed", field, reason, "malformed");

        /// <summary>Refused by a rule: the member's reason (as a 409's <c>reason</c>), or <c>invalid</c> for a field that breaks a rule of its own.</summary>
        public static DeadLetter Rejected(string? field, string reason, string? code) => new("rejected", field, reason, code ?? "invalid");
    }

    private async ValueTask<Reading> ReadAsync(INatsJSMsg<byte[]> msg, string programId, DateTimeOffset now)
    {
        if (!CallerIds.IsValid(programId))
        {
            return new(null, null, DeadLetter.Malformed("subject", $"subject: the program id '{programId}' {CallerIds.Rule}"));
        }
        // A program that cannot be looked up now throws: the run ends and its messages come again.
        var program = await programs.GetAsync(programId);
        if (program is null) return new(null, null, DeadLetter.Malformed("subject", $"subject: program '{programId}' not found"));
        if (msg.Data is not { Length: > 0 } data) return new(null, null, DeadLetter.Malformed("$", "$: the message is empty (an event object is expected)"));
        if (JsonInput.Parse(data, out var unread) is not { } doc)
        {
            return new(null, null, DeadLetter.Malformed(unread.Field, $"{unread.Field}: {unread.Message}"));
        }
        using (doc)
        {
            if (ScoringEventJson.Parse(doc.RootElement, "", 0, out var memberId, out var ev, out _) is { } problems)
            {
                return new(null, null, DeadLetter.Malformed(problems.Keys.First(), ScoringEventJson.Describe(problems)));
            }
            if (EventValidation.ValidateBeforeMember(program, ev!, now) is { } invalid)
            {
                return new(null, null, DeadLetter.Rejected(invalid.Field, $"{invalid.Field}: {invalid.Message}", null));
            }
            return new(memberId, ev, null);
        }
    }

    private void Enqueue(string memberKey, Delivery delivery, CancellationToken pulling, CancellationTokenSource failed)
    {
        MemberLine? line;
        Task previous;
        lock (_linesGate)
        {
            if (!_lines.TryGetValue(memberKey, out line)) _lines[memberKey] = line = new MemberLine();
            line.Calls++;
            previous = line.Tail;
        }
        var call = ApplyInLineAsync(memberKey, delivery, previous, line, pulling, failed);
        lock (_linesGate) line.Tail = call;
        Track(call);
    }

    private async Task ApplyInLineAsync(string memberKey, Delivery delivery, Task previous, MemberLine line, CancellationToken pulling, CancellationTokenSource failed)
    {
        try
        {
            await previous;
            // Stopped: left unacknowledged, for the next run to deliver again before anything newer.
            if (!pulling.IsCancellationRequested) await ApplyAsync(memberKey, delivery, pulling, failed.Token);
        }
        catch (Exception) when (pulling.IsCancellationRequested)
        {
            // Stopped or failed meanwhile: whatever this call did not acknowledge comes again.
        }
        catch (Exception e)
        {
            // An acknowledgement or a dead letter that could not be sent: end the run rather than let a
            // later event of this member overtake one left unacknowledged.
            LogLineFailed(e, memberKey);
            failed.Cancel();
        }
        finally
        {
            lock (_linesGate)
            {
                if (--line.Calls == 0) _lines.Remove(memberKey);
            }
        }
    }

    /// <param name="pulling">no attempt starts after it (a call in flight still finishes)</param>
    /// <param name="stop">the acknowledgement or dead letter of a call that returned gives up</param>
    private async Task ApplyAsync(string memberKey, Delivery d, CancellationToken pulling, CancellationToken stop)
    {
        ScoringEvent[] events = [d.Event!];
        EventOutcome[] outcomes;
        var delay = TimeSpan.FromMilliseconds(100);
        var retrying = false;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                await _calls.WaitAsync(pulling);
                try
                {
                    outcomes = await grains.Member(memberKey).ApplyEvents(events);
                    break;
                }
                catch (Exception e) when (!pulling.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _stats.FailedCalls);
                    if (!retrying) Interlocked.Increment(ref _retrying);
                    retrying = true;
                    if (attempt is 1 or 10 || attempt % 100 == 0) LogCallFailed(e, memberKey, d.Seq, attempt);
                }
                finally
                {
                    _calls.Release();
                }
                // Ours while retried: the broker must not hand it out again meanwhile.
                await d.Msg.AckProgressAsync(cancellationToken: pulling);
                await Task.Delay(delay, clock, pulling);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
        finally
        {
            if (retrying) Interlocked.Decrement(ref _retrying);
        }
        var outcome = outcomes[0];
        switch (outcome.Status)
        {
            case EventStatus.Accepted:
                Interlocked.Increment(ref _stats.Accepted);
                if (d.Msg.Metadata is { } meta) _stats.Lag.Record(clock.GetUtcNow() - meta.Timestamp);
                await AckAsync(d, stop);
                break;
            case EventStatus.Duplicate:
                Interlocked.Increment(ref _stats.Duplicates);
                await AckAsync(d, stop);
                break;
            default:
                var reason = outcome.Field is null ? outcome.Error ?? "rejected" : $"{outcome.Field}: {outcome.Error}";
                await DeadLetterAsync(d, MemberKeys.Parse(memberKey).ProgramId, DeadLetter.Rejected(outcome.Field, reason, outcome.Reason), stop);
                break;
        }
    }

    private async Task AckAsync(Delivery d, CancellationToken stop)
    {
        await d.Msg.AckAsync(cancellationToken: stop);
        _held.TryRemove(d.Seq, out _);
    }

    /// <summary>Stores the message with its reason in the dead letters (retried until stored), then terminates it.</summary>
    private async Task DeadLetterAsync(Delivery d, string programId, DeadLetter problem, CancellationToken stop)
    {
        var headers = new NatsHeaders
        {
            [DeadLetterHeaders.Kind] = problem.Kind,
            [DeadLetterHeaders.Code] = problem.Code,
            [DeadLetterHeaders.Reason] = HeaderValue(problem.Reason),
            [DeadLetterHeaders.Subject] = d.Msg.Subject,
            [DeadLetterHeaders.Sequence] = d.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (problem.Field is not null) headers[DeadLetterHeaders.Field] = HeaderValue(problem.Field);
        // A body the server would not take back with the headers (it took it alone) is left out, its length said.
        var body = d.Msg.Data ?? [];
        if (body.Length > (nats.ServerInfo?.MaxPayload ?? 1 << 20) - MaxHeaderBytes)
        {
            headers[DeadLetterHeaders.BodyOmitted] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            body = [];
        }
        var subject = CallerIds.IsValid(programId) ? $"{options.DeadLetterSubject}.{programId}" : $"{options.DeadLetterSubject}._";
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var id = DeadLetterId(_stream, d.Seq, d.Msg.Metadata?.Timestamp ?? default);
                var ack = await _js.PublishAsync(subject, body, opts: new NatsJSPubOpts { MsgId = id }, headers: headers, cancellationToken: stop);
                // A duplicate: this message was dead-lettered before (it came again before it was terminated).
                if (!ack.Duplicate) ack.EnsureSuccess();
                break;
            }
            catch (Exception e) when (!stop.IsCancellationRequested && e is not OperationCanceledException)
            {
                if (attempt is 1 or 10 || attempt % 100 == 0) LogDeadLetterFailed(e, d.Seq, attempt);
            }
            await Task.Delay(delay, clock, stop);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
        Interlocked.Increment(ref problem.Kind == "rejected" ? ref _stats.Rejected : ref _stats.Malformed);
        await d.Msg.AckTerminateAsync(cancellationToken: stop);
        _held.TryRemove(d.Seq, out _);
    }

    /// <summary>
    /// The dead letter's <c>Nats-Msg-Id</c>: the same message dead-lettered twice is stored once, and its
    /// store time (to the millisecond, as a delivery carries it) tells it from the message of the same
    /// sequence in an events stream made again since.
    /// </summary>
    public static string DeadLetterId(string stream, ulong seq, DateTimeOffset storedAt)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{stream}:{seq}:{storedAt.ToUnixTimeMilliseconds()}");

    /// <summary>Room for a dead letter's headers: each value at most <see cref="MaxHeaderValue"/> characters, escaped.</summary>
    private const int MaxHeaderBytes = 8 * 1024;
    private const int MaxHeaderValue = 500;

    /// <summary>
    /// Header values are one line of ASCII (NATS headers are, as HTTP's): other characters as <c>\uXXXX</c>;
    /// long ones (a field named by a huge property) cut, ending in an ellipsis.
    /// </summary>
    public static string HeaderValue(string text)
    {
        var value = new System.Text.StringBuilder(Math.Min(text.Length, MaxHeaderValue));
        foreach (var c in text)
        {
            if (value.Length >= MaxHeaderValue)
            {
                value.Append("...");
                break;
            }
            if (char.IsControl(c)) value.Append(' ');
            else if (c > '~') value.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else value.Append(c);
        }
        return value.ToString();
    }

    private void Track(Task task)
    {
        if (task.IsCompleted) return;
        _work[task] = 0;
        task.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _), _work,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    [LoggerMessage(1, LogLevel.Information, "Dispatching festival events from NATS stream {Stream} (consumer {Consumer})")]
    private partial void LogPumping(string stream, string consumer);

    [LoggerMessage(2, LogLevel.Warning, "The NATS dispatcher stopped on an error ({Failures} in a row); it takes the consumer over again in a second")]
    private partial void LogPumpFailed(Exception exception, int failures);

    [LoggerMessage(3, LogLevel.Warning, "Member {MemberKey} could not apply message {Sequence} from NATS (attempt {Attempt}); retrying, its later events wait")]
    private partial void LogCallFailed(Exception exception, string memberKey, ulong sequence, int attempt);

    [LoggerMessage(4, LogLevel.Warning, "Message {Sequence} could not be stored in the dead letters (attempt {Attempt}); retrying")]
    private partial void LogDeadLetterFailed(Exception exception, ulong sequence, int attempt);

    [LoggerMessage(6, LogLevel.Warning, "The NATS connection was opened again ({Message}); the dispatcher takes the consumer over from its ack floor")]
    private partial void LogReconnected(string message);

    [LoggerMessage(5, LogLevel.Error, "The NATS dispatcher could not finish a call of member {MemberKey}; the run restarts from the broker's ack floor")]
    private partial void LogLineFailed(Exception exception, string memberKey);
}

/// <summary>The headers a dead letter carries besides the original body (docs/streams.md).</summary>
public static class DeadLetterHeaders
{
    public const string Kind = "Membership-Kind";
    /// <summary>
    /// What to switch on: <c>malformed</c>; for a rejected event the <c>reason</c> the HTTP API gives
    /// (<c>id-reused</c>, <c>order-paid</c>, ...), or <c>invalid</c> when a field breaks its rule.
    /// </summary>
    public const string Code = "Membership-Code";
    public const string Reason = "Membership-Reason";
    public const string Field = "Membership-Field";
    public const string Subject = "Membership-Subject";
    public const string Sequence = "Membership-Sequence";
    /// <summary>The original body's length in bytes, when the dead letter could not carry the body too.</summary>
    public const string BodyOmitted = "Membership-Body-Omitted";
}
