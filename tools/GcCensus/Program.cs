using System.Globalization;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.GcCensus;

// What a festival write leaves for the garbage collector, without HTTP, Orleans or a load generator:
// the engine's own write path (MemberWrite, MemberRules, the embedded ledger) over members seeded like
// the load tests' seed scenario, with the festival's event mix. Part 1 forces a gen0 collection every
// --every events and reports what each copied and how long it stopped the process (after what the events
// keep and allocate, by type); part 2 walks a
// member's state before and after each write and counts the objects the write added to it.
// Usage: dotnet run -c Release --project tools/GcCensus -- [--members 10000] [--every 11000] [--collections 20]
var options = Options.Parse(args);
var program = ProgramCompiler.Compile("default", 1, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "programs", "default.json"))).Program
    ?? throw new InvalidOperationException("the shipped default program did not compile");
var node = new Node(program, options.Members);
node.Seed();
node.Run(40_000); // every member active, arrays past their first doublings
GC.Collect();
{
    // What the events keep (the members' rows and the embedded ledger), and what they allocate by type
    // (the runtime's allocation samples, one about every 100 KB).
    const int Sampled = 200_000;
    var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
    using var sampler = new AllocationSampler();
    sampler.On = true;
    node.Run(Sampled);
    sampler.On = false;
    var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Sampled} events keep {(heapAfter - heapBefore) / (double)Sampled:F0} B/event; allocated by type:"));
    foreach (var (type, bytes) in sampler.Top(15)) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {bytes / (double)Sampled,7:F0} B/event  {type}"));
}
var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
var eventsBefore = node.Events;
var gen0 = new List<(double Ms, long Promoted)>();
var gen1 = new List<(double Ms, long Promoted)>();
GC.Collect(0, GCCollectionMode.Forced, blocking: true);
for (var i = 0; i < options.Collections; i++)
{
    node.Run(options.Every);
    GC.Collect(0, GCCollectionMode.Forced, blocking: true);
    var info = GC.GetGCMemoryInfo(GCKind.Ephemeral);
    var ms = info.PauseDurations.ToArray().Sum(p => p.TotalMilliseconds);
    (info.Generation == 0 ? gen0 : gen1).Add((ms, info.PromotedBytes));
}
var events = node.Events - eventsBefore;
var promoted = gen0.Sum(g => g.Promoted);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{options.Members} members, a collection every {options.Every} events, {events} events: allocated {(GC.GetTotalAllocatedBytes(true) - allocatedBefore) / events} B/event"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"gen0: {gen0.Count} collections, {Avg(gen0.Select(g => g.Ms)):F1} ms and {Avg(gen0.Select(g => (double)g.Promoted)) / 1e6:F1} MB promoted each, {(gen0.Count == 0 ? 0 : promoted / (double)(gen0.Count * options.Every)):F0} B/event"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"gen1: {gen1.Count} collections, {Avg(gen1.Select(g => g.Ms)):F1} ms and {Avg(gen1.Select(g => (double)g.Promoted)) / 1e6:F1} MB promoted each"));

var census = new Census(program);
node.Run(3_000, census);
Console.WriteLine($"new objects per write in the member's state, {census.Writes} writes:");
foreach (var (type, count, bytes) in census.Rows().Take(20))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {count / (double)census.Writes,6:F2} objects {bytes / (double)census.Writes,7:F0} B  {type}"));
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  {census.Objects / (double)census.Writes,6:F2} objects {census.Bytes / (double)census.Writes,7:F0} B  in all{(Census.SizesKnown ? "" : " (sizes unknown on this runtime: counts only)")}"));

static double Avg(IEnumerable<double> values) => values.DefaultIfEmpty(0).Average();

namespace Orleans.Membership.GcCensus
{
    internal sealed record Options(int Members, int Every, int Collections)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(10_000, 11_000, 20);
            for (var i = 0; i < args.Length; i += 2)
            {
                var value = i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) && v > 0
                    ? v : throw new ArgumentException($"{args[i]} needs a positive whole number");
                o = args[i] switch
                {
                    "--members" => o with { Members = value },
                    "--every" => o with { Every = value },
                    "--collections" => o with { Collections = value },
                    _ => throw new ArgumentException($"unknown option {args[i]} (--members, --every, --collections)"),
                };
            }
            return o;
        }
    }

    /// <summary>Members and their ledger, written the way the member grain writes them.</summary>
    internal sealed class Node(MembershipProgram program, int members)
    {
        private readonly MemberState[] _states = Enumerable.Range(0, members).Select(_ => new MemberState()).ToArray();
        private readonly InMemoryMemberLedger _ledger = new();
        private readonly Random _random = new(1);
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public long Events { get; private set; }

        /// <summary>As the seed scenario: enrolled, three orders over the last two years, a sign-in.</summary>
        public void Seed()
        {
            for (var m = 0; m < _states.Length; m++)
            {
                Write(m, w => MemberRules.Enroll(w, new EnrollRequest(null)));
                var random = new Random(m);
                for (var k = 0; k < 3; k++)
                {
                    var ev = new ScoringEvent($"seed-m{m}-o{k}", "order.paid", _now.AddDays(-random.Next(1, 700)), $"seed-o{k}", random.Next(1000, 300000) / 100m, null);
                    Write(m, w => MemberRules.ApplyEvent(w, ev));
                }
                Write(m, w => MemberRules.ApplyEvent(w, new ScoringEvent($"seed-m{m}-s", "sign-in", null, null, null, null)));
            }
        }

        /// <summary>The festival scenario's mix: 70% orders, 20% sign-ins, 10% reviews, members at random.</summary>
        public void Run(int count, Census? census = null)
        {
            for (var i = 0; i < count; i++, Events++)
            {
                var m = _random.Next(_states.Length);
                var id = $"run-{Events}";
                var roll = _random.Next(10);
                var ev = roll < 7
                    ? new ScoringEvent(id, "order.paid", null, id, _random.Next(100, 100_000) / 100m, null)
                    : new ScoringEvent(id, roll < 9 ? "sign-in" : "review", null, null, null, null);
                census?.Before(_states[m]);
                Write(m, w => MemberRules.ApplyEvent(w, ev));
                census?.After(_states[m]);
            }
        }

        private void Write(int m, Action<MemberWrite> rule)
        {
            var w = new MemberWrite(_states[m], program, _now);
            rule(w);
            if (w.Entries.Count > 0)
            {
                MemberRules.WriteDue(w);
                _ledger.AppendAsync("m" + m, w.Entries).GetAwaiter().GetResult();
            }
            w.Keep();
        }
    }
}
