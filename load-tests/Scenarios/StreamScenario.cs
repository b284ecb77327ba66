using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Orleans.Membership.LoadTests.Harness;

namespace Orleans.Membership.LoadTests.Scenarios;

/// <summary>
/// <c>--scenario stream</c>: order events published to NATS JetStream (<c>membership.events.{program}</c>),
/// one per iteration, each awaiting the broker's acknowledgement (the step's latency), at <c>--rate</c>
/// events a second (or <c>--copies</c> publishers at full speed). The node (<c>--target</c>, run with
/// <c>Membership:Streams:Provider=nats</c>) is asked for its dispatcher's counters
/// (<c>GET /v1/diagnostics/nats</c>) after the warm-up, when publishing ends and when it has applied all:
/// applied events/s over the measured window, and the lag from the broker's store timestamp of each event
/// to the return of its member's call (the ledger commit), as the node measured it, for the events of
/// the run (warm-up included). NATS_URL (default nats://127.0.0.1:4222) names the broker, NATS_SUBJECT
/// the subject prefix (default membership.events).
/// </summary>
public static class StreamScenario
{
    private sealed record Reading(long Applied, long Refused, long[] Lag, long At);

    public static Scenario Create(LoadSettings s)
    {
        var url = Environment.GetEnvironmentVariable("NATS_URL") ?? "nats://127.0.0.1:4222";
        NatsConnection? nats = null;
        NatsJSContext? js = null;
        var http = new HttpClient { BaseAddress = s.Target, Timeout = TimeSpan.FromSeconds(10) };
        if (s.ApiKey is not null) http.DefaultRequestHeaders.Add("X-Api-Key", s.ApiKey);
        long published = 0;
        Reading? start = null, measured = null;
        Task? sampling = null;
        var subject = $"{Environment.GetEnvironmentVariable("NATS_SUBJECT") ?? "membership.events"}.{s.Program}";

        async Task<Reading> Read(CancellationToken ct)
        {
            var counters = await http.GetFromJsonAsync<JsonElement>("/v1/diagnostics/nats", ct);
            return new Reading(counters.GetProperty("accepted").GetInt64() + counters.GetProperty("duplicates").GetInt64(),
                counters.GetProperty("deadLettered").GetInt64(),
                counters.GetProperty("lagBuckets").Deserialize<long[]>()!, Stopwatch.GetTimestamp());
        }

        return Scenario.Create("stream", async ctx =>
            {
                var n = Interlocked.Increment(ref published);
                var member = s.FirstMember + ctx.Random.Next(s.Members);
                var id = $"{s.RunId}-s{n}";
                var amount = (ctx.Random.Next(100, 100_000) / 100m).ToString("0.00", CultureInfo.InvariantCulture);
                var body = Encoding.UTF8.GetBytes($"{{\"eventId\":\"{id}\",\"memberId\":\"m{member}\",\"type\":\"order.paid\",\"orderId\":\"{id}\",\"amount\":{amount}}}");
                return await Step.Run("publish", ctx, async () =>
                {
                    var ack = await js!.PublishAsync(subject, body, opts: new NatsJSPubOpts { MsgId = id }, cancellationToken: ctx.CancellationToken);
                    return ack.Error is null ? Response.Ok() : Response.Fail(ack.Error.Code, ack.Error.Description);
                });
            })
            .WithInit(async ct =>
            {
                nats = new NatsConnection(new NatsOpts { Url = url, Name = "membership-load-tests" });
                try
                {
                    await nats.ConnectAsync();
                }
                catch (NatsException e)
                {
                    throw new InvalidOperationException($"the NATS broker at {url} does not answer ({e.Message}); is nats-server running (scripts/nats-up.sh), and NATS_URL right?", e);
                }
                js = new NatsJSContext(nats);
                try
                {
                    start = await Read(ct);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
                {
                    throw new InvalidOperationException($"{s.Target}/v1/diagnostics/nats does not answer ({e.Message}); is the node running with Membership:Streams:Provider=nats?", e);
                }
                sampling = Task.Run(async () =>
                {
                    await Task.Delay(s.WarmUp, ct);
                    measured = await Read(ct);
                }, ct);
            })
            .WithClean(async ct =>
            {
                await sampling!;
                var publishedAll = Interlocked.Read(ref published);
                var end = await Read(ct);
                var window = Stopwatch.GetElapsedTime(measured!.At, end.At).TotalSeconds;
                Console.Error.WriteLine($"stream: applied {end.Applied - measured.Applied} events in the measured {window:0.0} s: {(end.Applied - measured.Applied) / window:0} events/s applied while publishing");
                // Then the backlog the broker holds, until every event published in the run is applied (or refused).
                var drained = end;
                var deadline = Stopwatch.StartNew();
                while (drained.Applied + drained.Refused - start!.Applied - start.Refused < publishedAll && deadline.Elapsed < TimeSpan.FromMinutes(5))
                {
                    await Task.Delay(200, ct);
                    drained = await Read(ct);
                }
                var total = drained.Applied + drained.Refused - start.Applied - start.Refused;
                var since = Stopwatch.GetElapsedTime(measured.At, drained.At).TotalSeconds;
                var lag = new long[end.Lag.Length];
                for (var i = 0; i < lag.Length; i++) lag[i] = drained.Lag[i] - start.Lag[i];
                var drainSeconds = Stopwatch.GetElapsedTime(end.At, drained.At).TotalSeconds;
                Console.Error.WriteLine($"stream: {total} of {publishedAll} published events applied ({(drained.Applied - measured.Applied) / since:0} events/s from the end of the warm-up)");
                // What the broker held when publishing ended, applied with no publisher beside the node: the node's own rate.
                Console.Error.WriteLine(drainSeconds >= 1 && drained.Applied - end.Applied >= 1000
                    ? $"stream: backlog of {drained.Applied - end.Applied} events drained in {drainSeconds:0.0} s after publishing ended: {(drained.Applied - end.Applied) / drainSeconds:0} events/s from the broker alone"
                    : "stream: no backlog when publishing ended (the node kept up)");
                Console.Error.WriteLine($"stream: lag broker -> ledger p50 {Percentile(lag, 0.5)} / p90 {Percentile(lag, 0.9)} / p99 {Percentile(lag, 0.99)} / p99.9 {Percentile(lag, 0.999)} ms");
                http.Dispose();
                if (nats is not null) await nats.DisposeAsync();
            })
            .WithUnitsPerIteration("events", 1)
            .WithLoadSimulations(s.Rate is { } rate ? Simulation.Inject(rate, TimeSpan.FromSeconds(1), s.Duration) : Simulation.KeepConstant(s.Copies, s.Duration))
            .WithThresholds(Threshold.Create(st => st.Fail.Request.Percent < 1, "fewer than 1% of publishes fail"))
            .WithWarmUpDuration(s.WarmUp);
    }

    /// <summary>The upper edge of the node's lag bucket (4% wide from 0.1 ms) holding quantile q.</summary>
    private static string Percentile(long[] counts, double q)
    {
        var total = counts.Sum();
        if (total == 0) return "-";
        var rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank) return (0.1 * Math.Pow(1.04, i)).ToString("0.0", CultureInfo.InvariantCulture);
        }
        return ">" + (0.1 * Math.Pow(1.04, counts.Length - 1)).ToString("0", CultureInfo.InvariantCulture);
    }
}
