using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Members;
using Orleans.Streams;

// A producer of scoring events on the member streams: an Orleans client of an embedded node's gateway.
//   dotnet run --project examples/StreamProducer -- [members] [eventsPerMember] [program] [gatewayPort] [tag]
// Each member gets its events as one batch on its own stream ("scoring-events", key "program/member").
// Event ids and bodies are derived from the member, the tag, the index and the UTC day, so running it
// again the same day with the same tag finds only duplicates (another day, the same ids come with other
// times: rejected as reused); another tag makes new events.
var members = args.Length > 0 ? int.Parse(args[0]) : 1000;
var perMember = args.Length > 1 ? int.Parse(args[1]) : 10;
var programId = args.Length > 2 ? args[2] : "default";
var gatewayPort = args.Length > 3 ? int.Parse(args[3]) : 30000;
var tag = args.Length > 4 ? args[4] : "";

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.UseOrleansClient(client =>
{
    client.UseLocalhostClustering(gatewayPort);
    client.Configure<ClusterOptions>(o => { o.ClusterId = "membership"; o.ServiceId = "membership"; });
    // The same provider name and pub-sub type as the silo (docs/streams.md).
    client.AddMemoryStreams(ScoringStreams.Provider, s => s.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
});
using var host = builder.Build();
await host.StartAsync();
var streams = host.Services.GetRequiredService<IClusterClient>().GetStreamProvider(ScoringStreams.Provider);

var clock = Stopwatch.StartNew();
var day = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
var sent = 0;
var refused = 0;
using var inFlight = new SemaphoreSlim(64);
var tasks = new List<Task>();
for (var m = 0; m < members; m++)
{
    var memberId = $"stream-m{m}";
    var batch = new ScoringEvent[perMember];
    for (var i = 0; i < perMember; i++)
    {
        batch[i] = new ScoringEvent($"{memberId}-{tag}e{i}", "order.paid", day.AddMinutes(-1 - i), $"{memberId}-{tag}o{i}", 99.5m + i, null);
    }
    await inFlight.WaitAsync();
    tasks.Add(Send(streams.GetStream<ScoringEvent>(ScoringStreams.For(programId, memberId)), batch));
    sent += perMember;
}
await Task.WhenAll(tasks);
Console.WriteLine($"queued {sent} events for {members} members in {clock.Elapsed.TotalSeconds:F2} s ({sent / clock.Elapsed.TotalSeconds:F0} events/s; {refused} sends refused by a full queue and retried)");
await host.StopAsync();

async Task Send(IAsyncStream<ScoringEvent> stream, ScoringEvent[] batch)
{
    try
    {
        // Completes when the batch is in the provider's queue, not when members applied it (docs/streams.md).
        // A full queue (the members are behind: backpressure) refuses the batch; wait and send it again.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await stream.OnNextBatchAsync(batch);
                return;
            }
            catch (Exception e) when (attempt < 20 && e.ToString().Contains("has reached its maximum", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref refused);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 << Math.Min(attempt, 6))));
            }
        }
    }
    finally
    {
        inFlight.Release();
    }
}
