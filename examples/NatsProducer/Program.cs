// A festival producer outside the cluster: plain JSON events on membership.events.{programId}, each
// published with JetStream's acknowledgement (the broker stored it) and retried on a timeout with the same
// Nats-Msg-Id, so a retry the broker already stored is dropped as a duplicate (and the engine would apply
// it once anyway: eventIds are idempotent). Also lists and replays the dead letters (docs/streams.md).
//
//   publish [members] [eventsPerMember] [program] [tag]   members m0..m(N-1), order.paid events
//   dead-letters [program]                                prints each dead letter with its reason
//   replay [program]                                      publishes each dead letter again, then deletes it
//
// NATS_URL (default nats://127.0.0.1:4222) names the server; MEMBERSHIP_SUBJECT and
// MEMBERSHIP_DEADLETTER_SUBJECT the engine's Membership:Streams:Nats:Subject and DeadLetterSubject.
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

var url = Environment.GetEnvironmentVariable("NATS_URL") ?? "nats://127.0.0.1:4222";
var eventsSubject = Environment.GetEnvironmentVariable("MEMBERSHIP_SUBJECT") ?? "membership.events";
var deadLetterSubject = Environment.GetEnvironmentVariable("MEMBERSHIP_DEADLETTER_SUBJECT") ?? "membership.deadletter";
var command = args.Length > 0 ? args[0] : "publish";
await using var nats = new NatsConnection(new NatsOpts { Url = url, Name = "membership-producer" });
var js = new NatsJSContext(nats);

switch (command)
{
    case "publish":
    {
        var members = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        var perMember = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var program = args.Length > 3 ? args[3] : "default";
        var tag = args.Length > 4 ? args[4] : "";
        var subject = $"{eventsSubject}.{program}";
        var day = DateTime.UtcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var retries = 0;
        var watch = Stopwatch.StartNew();
        // Up to 256 publishes awaiting their acknowledgement at once; a member's events go out in order
        // (event i of every member before event i + 1 of any), which is the order the engine applies them in.
        using var window = new SemaphoreSlim(256);
        var pending = new List<Task>();
        for (var i = 0; i < perMember; i++)
        {
            for (var m = 0; m < members; m++)
            {
                var eventId = $"{tag}m{m}-{i}-{day}";
                var body = $$"""{"eventId":"{{eventId}}","memberId":"m{{m}}","type":"order.paid","orderId":"{{eventId}}","amount":{{10 + m % 90}}.50}""";
                await window.WaitAsync();
                var data = Encoding.UTF8.GetBytes(body);
                pending.Add(Publish(subject, MsgId(program, $"m{m}", eventId, data), data));
            }
            // A member's next event only after its previous one is stored: per-member order at the broker.
            await Task.WhenAll(pending);
            pending.Clear();
        }
        var total = (long)members * perMember;
        Console.WriteLine($"published {total} events to {subject} in {watch.Elapsed.TotalSeconds:0.00} s ({total / watch.Elapsed.TotalSeconds:0} events/s), {retries} retries");

        // Unique in the stream (an eventId is unique per member only) and per body: a retry of these bytes is
        // dropped by the broker, while an event corrected after a refusal (same eventId) gets through.
        static string MsgId(string program, string member, string eventId, byte[] body)
            => $"{program}/{member}/{eventId}/{Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 8))}";

        async Task Publish(string to, string msgId, byte[] data)
        {
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        var ack = await js.PublishAsync(to, data, opts: new NatsJSPubOpts { MsgId = msgId });
                        // A duplicate is a success: an earlier try was stored and only its acknowledgement was lost.
                        if (!ack.Duplicate) ack.EnsureSuccess();
                        return;
                    }
                    catch (Exception e) when (attempt < 30 && e is NatsJSPublishNoResponseException or NatsNoRespondersException or NatsJSApiException or TimeoutException or NatsException)
                    {
                        // Not stored (or not known to be): the same Nats-Msg-Id again, after a pause.
                        Interlocked.Increment(ref retries);
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * attempt)));
                    }
                }
            }
            finally
            {
                window.Release();
            }
        }
        break;
    }
    case "dead-letters":
    case "replay":
    {
        var program = args.Length > 1 ? args[1] : null;
        // MEMBERSHIP_DEADLETTERS, or the stream the engine found already storing the dead-letter subjects.
        var stream = "MEMBERSHIP_DEADLETTERS";
        await foreach (var name in js.ListStreamNamesAsync($"{deadLetterSubject}.>"))
        {
            stream = name;
            break;
        }
        // Only what is there now: a replayed event still refused comes back after this point, for the next replay.
        var last = (await js.GetStreamAsync(stream)).Info.State.LastSeq;
        // Filtered here, not by the consumer: nats-server before 2.10 ignores the filter an ordered consumer sends.
        var wanted = program is null ? null : $"{deadLetterSubject}.{program}";
        var consumer = await js.CreateOrderedConsumerAsync(stream);
        var count = 0;
        var done = last == 0;
        while (!done)
        {
            var got = 0;
            await foreach (var msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 500 }))
            {
                got++;
                var seq = msg.Metadata!.Value.Sequence.Stream;
                if (seq > last)
                {
                    done = true;
                    break;
                }
                if (seq == last) done = true;
                if (wanted is not null && msg.Subject != wanted) continue;
                count++;
                var headers = msg.Headers;
                string Header(string name) => headers is not null && headers.TryGetValue(name, out var v) ? v.ToString() : "";
                var body = msg.Data is null ? "" : Encoding.UTF8.GetString(msg.Data);
                if (command == "dead-letters")
                {
                    Console.WriteLine($"#{seq} {Header("Membership-Kind")} from {Header("Membership-Subject")}: {Header("Membership-Reason")}\n    {body}");
                    continue;
                }
                if (Header("Membership-Body-Omitted") is { Length: > 0 } length)
                {
                    Console.WriteLine($"#{seq} kept: its body ({length} bytes) was too large to store with the reason");
                    continue;
                }
                // Fixed at the source (the program now exists, the member's order arrived), the event goes back to where it came from.
                var ack = await js.PublishAsync(Header("Membership-Subject"), msg.Data ?? [], opts: new NatsJSPubOpts { MsgId = $"replay-{stream}-{seq}" });
                if (!ack.Duplicate) ack.EnsureSuccess();
                await js.DeleteMessageAsync(stream, new StreamMsgDeleteRequest { Seq = seq });
            }
            if (got == 0) break;
        }
        Console.WriteLine(command == "replay" ? $"replayed {count} dead letters" : $"{count} dead letters");
        break;
    }
    default:
        Console.Error.WriteLine("usage: publish [members] [eventsPerMember] [program] [tag] | dead-letters [program] | replay [program]");
        return 64;
}
return 0;
