using System.Diagnostics;
using System.Globalization;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.GrainPathGc;
using Orleans.Membership.Silo;

// The garbage collector's share of the member grain's write path without HTTP, the API or a load
// generator: the embedded node (as the node runs, young collections paced) in this process, 10,000
// enrolled members, and grain calls from its own client at a fixed rate, in bursts of 500 as the API
// makes them for a festival batch. --call apply sends one festival event per call (70% orders, 20%
// sign-ins, 10% reviews); summary reads the member (a read-only call); ping calls a grain that does
// nothing (what Orleans' own call path leaves). Reports collections per second, their average pause and
// what each call allocated, over --seconds after --warmup.
// Usage: dotnet tools/GrainPathGc/bin/Release/net10.0/Orleans.Membership.GrainPathGc.dll [--rate 20000] [--call apply|summary|ping] [--seconds 15] [--warmup 20]
var rate = Option("--rate", 20_000);
var call = args.SkipWhile(a => a != "--call").Skip(1).FirstOrDefault() ?? "apply";
if (call is not ("apply" or "summary" or "ping")) return Fail($"--call must be apply, summary or ping, not '{call}'");
var seconds = Option("--seconds", 15);
var warmup = Option("--warmup", 20);
const int Members = 10_000, Burst = 500;

var app = MembershipNode.Build(["--urls", "http://127.0.0.1:5095", "--Membership:SiloPort=11125", "--Membership:GatewayPort=30025", "--Logging:LogLevel:Default=Warning"]);
await app.StartAsync();
var grains = app.Services.GetRequiredService<IGrainFactory>();
var keys = Enumerable.Range(0, Members).Select(i => MemberKeys.Of("default", $"m{i}")).ToArray();
for (var from = 0; from < Members; from += Burst)
{
    await Task.WhenAll(keys.Skip(from).Take(Burst).Select(k => grains.Member(k).Enroll(new EnrollRequest(null))));
}

var random = new Random(1);
long next = 0;
Task Call()
{
    var key = keys[random.Next(Members)];
    if (call == "ping") return grains.GetGrain<IPingGrain>(key).Ping();
    if (call == "summary") return grains.Member(key).GetSummary();
    var id = string.Create(CultureInfo.InvariantCulture, $"e{next++}");
    var roll = random.Next(10);
    var ev = roll < 7
        ? new ScoringEvent(id, "order.paid", null, id, random.Next(100, 100_000) / 100m, null)
        : new ScoringEvent(id, roll < 9 ? "sign-in" : "review", null, null, null, null);
    return grains.Member(key).ApplyEvents([ev]);
}

async Task Run(int forSeconds)
{
    var clock = Stopwatch.StartNew();
    long sent = 0;
    var bursts = new List<Task>();
    while (clock.Elapsed.TotalSeconds < forSeconds)
    {
        if (sent + Burst > clock.Elapsed.TotalSeconds * rate)
        {
            await Task.Delay(1);
            continue;
        }
        var calls = new Task[Burst];
        for (var i = 0; i < Burst; i++) calls[i] = Call();
        bursts.Add(Task.WhenAll(calls));
        bursts.RemoveAll(t => t.IsCompleted);
        sent += Burst;
    }
    await Task.WhenAll(bursts);
}

await Run(warmup);
var (gen0, gen1, paused, allocated) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes());
var measured = Stopwatch.StartNew();
await Run(seconds);
var elapsed = measured.Elapsed.TotalSeconds;
var collections = GC.CollectionCount(0) - gen0;
var pausedMs = (GC.GetTotalPauseDuration() - paused).TotalMilliseconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{call} at {rate} calls/s: {collections / elapsed:F1} collections/s ({GC.CollectionCount(1) - gen1} gen1), average pause {pausedMs / Math.Max(1, collections):F2} ms, {pausedMs / elapsed / 10:F1}% of the time paused, {(GC.GetTotalAllocatedBytes() - allocated) / elapsed / rate:F0} B allocated per call"));
await app.StopAsync();
return 0;

int Option(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    if (at < 0) return fallback;
    return at + 1 < args.Length && int.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var v) && v > 0
        ? v : throw new ArgumentException($"{name} needs a positive whole number");
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}

namespace Orleans.Membership.GrainPathGc
{
    /// <summary>A grain that does nothing: what a call costs Orleans itself.</summary>
    public interface IPingGrain : IGrainWithStringKey
    {
        Task Ping();
    }

    public sealed class PingGrain : Grain, IPingGrain
    {
        public Task Ping() => Task.CompletedTask;
    }
}
