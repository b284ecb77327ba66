using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// What the garbage collector did in a trace of the node (load-tests/gc-trace.sh records one with
// dotnet-trace): every pause with its generation, kind and reason; how long suspending, collecting and
// resuming took; where in the mark phase the time went (heap 0's marking, by root kind); the background
// collections; and, when the trace has allocation ticks (verbose level), what was allocated by type.
// --pauses lists every pause (with heap 0's card scanning and what followed marking); --stacks TYPE lists
// where the sampled allocations of types whose name contains TYPE came from (allocation samples, so a
// trace at the verbose level, LEVEL=5); --cpu [NAME] where the CPU samples were (CPU=1), --window FROM-TO
// only those FROM to TO seconds into the trace.
// Usage: dotnet tools/GcTrace/bin/Release/net10.0/Orleans.Membership.GcTrace.dll TRACE.nettrace [--pauses] [--stacks TYPE] [--cpu [NAME] [--window FROM-TO]]
if (args.Length == 0 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: Orleans.Membership.GcTrace TRACE.nettrace [--pauses] [--stacks TYPE]");
    return 2;
}
var listPauses = args.Contains("--pauses");
var stacksOf = Array.IndexOf(args, "--stacks") is var at && at > 0 && at + 1 < args.Length ? args[at + 1] : null;
if (stacksOf is not null) return AllocationStacks(args[0], stacksOf);
var window = Array.IndexOf(args, "--window") is var windowAt && windowAt > 0 && windowAt + 1 < args.Length ? args[windowAt + 1] : null;
if (Array.IndexOf(args, "--cpu") is var cpuAt && cpuAt > 0)
{
    var from = 0.0;
    var to = double.MaxValue;
    if (window is not null)
    {
        var parts = window.Split('-');
        if (parts.Length != 2 || !double.TryParse(parts[0], CultureInfo.InvariantCulture, out from) || !double.TryParse(parts[1], CultureInfo.InvariantCulture, out to) || to <= from)
        {
            Console.Error.WriteLine($"--window '{window}' must be FROM-TO in seconds from the trace's start, like 3.5-6");
            return 2;
        }
    }
    var callersOf = cpuAt + 1 < args.Length && !args[cpuAt + 1].StartsWith("--", StringComparison.Ordinal) ? args[cpuAt + 1] : null;
    return CpuSamples(args[0], callersOf, from * 1000, to * 1000);
}
using var source = new EventPipeEventSource(args[0]);

var pauses = new List<Pause>();
var backgrounds = new List<(int Index, double Start, double End)>();
var starts = new Dictionary<int, (double At, int Generation, string Reason, string Type)>();
var promoted = new Dictionary<int, (long Gen0, long Gen1)>();
var stages = new Dictionary<string, List<double>>();
var allocated = new Dictionary<string, long>();
var stagesOf = new Dictionary<int, Dictionary<string, double>>(); // per collection, for --pauses
double suspendStart = -1, suspended = -1, resumeStart = -1, stageFrom = -1;
var current = -1;

source.Clr.GCSuspendEEStart += e => suspendStart = e.TimeStampRelativeMSec;
source.Clr.GCSuspendEEStop += e => suspended = e.TimeStampRelativeMSec;
source.Clr.GCStart += e =>
{
    starts[e.Count] = (e.TimeStampRelativeMSec, e.Depth, e.Reason.ToString(), e.Type.ToString());
    current = e.Count;
    stageFrom = e.TimeStampRelativeMSec;
};
var heapsOf = new Dictionary<int, int>(); // per collection: how many heaps collected (DATAS changes it)
source.Clr.GCGlobalHeapHistory += e => { if (current >= 0) heapsOf[current] = e.NumHeaps; };
source.Clr.GCHeapStats += e => { if (current >= 0) promoted[current] = (e.TotalPromotedSize0, e.TotalPromotedSize1); };
source.Clr.GCStop += e =>
{
    if (starts.TryGetValue(e.Count, out var s) && s.Type == "BackgroundGC") backgrounds.Add((e.Count, s.At, e.TimeStampRelativeMSec));
};
// Heap 0's mark phase: each event ends one kind of root, so the time since the previous one is its share.
source.Clr.GCMarkWithType += e =>
{
    if (e.HeapNum != 0 || stageFrom < 0) return;
    Add(stages, RootName(e.Type), e.TimeStampRelativeMSec - stageFrom);
    AddTo(stagesOf, current, RootName(e.Type), e.TimeStampRelativeMSec - stageFrom);
    stageFrom = e.TimeStampRelativeMSec;
};
source.Clr.GCRestartEEStart += e =>
{
    resumeStart = e.TimeStampRelativeMSec;
    if (stageFrom >= 0)
    {
        Add(stages, AfterMarking, e.TimeStampRelativeMSec - stageFrom);
        AddTo(stagesOf, current, AfterMarking, e.TimeStampRelativeMSec - stageFrom);
    }
    stageFrom = -1;
};
source.Clr.GCRestartEEStop += e =>
{
    if (suspendStart < 0 || current < 0 || !starts.TryGetValue(current, out var s)) return;
    promoted.TryGetValue(current, out var p);
    pauses.Add(new Pause(current, suspendStart, e.TimeStampRelativeMSec - suspendStart, suspended - suspendStart,
        resumeStart - suspended, e.TimeStampRelativeMSec - resumeStart, s.Generation, s.Type, s.Reason, p.Gen0, p.Gen1));
    suspendStart = -1;
};
source.Clr.GCAllocationTick += e => allocated[e.TypeName ?? "?"] = allocated.GetValueOrDefault(e.TypeName ?? "?") + e.AllocationAmount64;
source.Process();

var inv = CultureInfo.InvariantCulture;
if (pauses.Count == 0)
{
    Console.WriteLine("no collections in the trace (was it recorded with the GC keyword, Microsoft-Windows-DotNETRuntime:0x1:4?)");
    return 1;
}
var span = (pauses[^1].At - pauses[0].At) / 1000;
Console.WriteLine(string.Create(inv, $"{pauses.Count} pauses over {span:F1} s, {pauses.Sum(p => p.Ms):F0} ms in all ({pauses.Sum(p => p.Ms) / 10 / Math.Max(span, 0.001):F1}% of the time)"));
Console.WriteLine(string.Create(inv, $"  suspending {Stats(pauses.Select(p => p.SuspendMs))}; collecting {Stats(pauses.Select(p => p.CollectMs))}; resuming {Stats(pauses.Select(p => p.ResumeMs))}"));
foreach (var group in pauses.GroupBy(p => (p.Generation, p.Type)).OrderBy(g => g.Key.Generation).ThenBy(g => g.Key.Type))
{
    var reasons = string.Join(", ", group.GroupBy(p => p.Reason).Select(r => $"{r.Key} {r.Count()}"));
    Console.WriteLine(string.Create(inv,
        $"gen{group.Key.Generation} {group.Key.Type}: {group.Count()} pauses, {Stats(group.Select(p => p.Ms))}; promoted {Stats(group.Select(p => (p.Generation == 0 ? p.PromotedGen0 : p.PromotedGen1) / 1e6), "MB")}; reasons: {reasons}"));
}
Console.WriteLine("heap 0's marking, by kind of root, and what follows it (per collection):");
foreach (var (stage, ms) in stages.OrderByDescending(kv => Percentile(kv.Value, 0.5)))
{
    Console.WriteLine(string.Create(inv, $"  {stage,-50} {Stats(ms)}"));
}
Console.WriteLine(string.Create(inv, $"background collections: {backgrounds.Count}{(backgrounds.Count == 0 ? "" : ", each " + Stats(backgrounds.Select(b => b.End - b.Start)) + " from start to end (concurrent with the program)")}"));
if (allocated.Count > 0)
{
    var total = allocated.Values.Sum();
    Console.WriteLine(string.Create(inv, $"allocated (sampled, every ~100 KB): {total / 1e6:F0} MB; by type:"));
    foreach (var (type, bytes) in allocated.OrderByDescending(kv => kv.Value).Take(25))
    {
        Console.WriteLine(string.Create(inv, $"  {bytes * 100.0 / total,5:F1}%  {type}"));
    }
}
if (listPauses)
{
    foreach (var p in pauses)
    {
        Console.WriteLine(string.Create(inv,
            $"{p.At,9:F0} ms  #{p.Index,-5} gen{p.Generation} {p.Type,-16} {p.Reason,-12} {p.Ms,6:F1} ms  promoted {p.PromotedGen0 / 1e6:F1} / {p.PromotedGen1 / 1e6:F1} MB  cards {Stage(p.Index, "older generations (cards)"):F1} after marking {Stage(p.Index, AfterMarking):F1} ms  heaps {heapsOf.GetValueOrDefault(p.Index)}"));
    }
}
return 0;

// Where the CPU samples (a trace with Microsoft-DotNETCore-SampleProfiler) were: the methods they were in
// (exclusive) and the engine's methods on their stacks (inclusive); with a name, the stacks of the samples
// in methods named like it.
static int CpuSamples(string trace, string? callersOf, double fromMs, double toMs)
{
    var perSecond = new SortedDictionary<int, int>();
    var callers = new Dictionary<string, int>();
    using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(trace));
    var exclusive = new Dictionary<string, int>();
    var inclusive = new Dictionary<string, int>();
    var total = 0;
    foreach (var e in log.Events)
    {
        if (e.EventName != "Thread/Sample" || e.TimeStampRelativeMSec < fromMs || e.TimeStampRelativeMSec >= toMs || e.CallStack() is not { } stack) continue;
        var top = stack.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(top) || top.Contains("WaitHandle", StringComparison.Ordinal) || top.Contains("LowLevelLifoSemaphore", StringComparison.Ordinal) || top.StartsWith("System.Threading.Monitor.Wait", StringComparison.Ordinal) || top.Contains("Interop+Sys.WaitForSocketEvents", StringComparison.Ordinal)) continue;
        total++;
        var second = (int)(e.TimeStampRelativeMSec / 1000);
        perSecond[second] = perSecond.GetValueOrDefault(second) + 1;
        exclusive[top] = exclusive.GetValueOrDefault(top) + 1;
        if (callersOf is not null && top.Contains(callersOf, StringComparison.Ordinal))
        {
            var frames = new List<string>();
            for (var frame = stack.Caller; frame is not null && frames.Count < 6; frame = frame.Caller)
            {
                if (frame.CodeAddress.FullMethodName is { Length: > 0 } name) frames.Add(name.Split('(')[0]);
            }
            var path = string.Join("  <-  ", frames);
            callers[path] = callers.GetValueOrDefault(path) + 1;
        }
        var seen = new HashSet<string>();
        for (var frame = stack; frame is not null; frame = frame.Caller)
        {
            var name = frame.CodeAddress.FullMethodName;
            if (name is null || !name.StartsWith("Orleans.Membership", StringComparison.Ordinal)) continue;
            var method = name.Split('(')[0];
            if (seen.Add(method)) inclusive[method] = inclusive.GetValueOrDefault(method) + 1;
        }
    }
    Console.WriteLine($"{total} samples not waiting; per second of the trace: {string.Join(' ', perSecond.Select(kv => $"{kv.Key}:{kv.Value}"))}");
    Console.WriteLine("by method (exclusive):");
    foreach (var (method, n) in exclusive.OrderByDescending(kv => kv.Value).Take(30)) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {n * 100.0 / Math.Max(total, 1),5:F1}%  {method.Split('(')[0]}"));
    foreach (var (path, n) in callers.OrderByDescending(kv => kv.Value).Take(12)) Console.WriteLine($"  {n,6} samples in *{callersOf}* from {path}");
    Console.WriteLine("the engine's methods (inclusive):");
    foreach (var (method, n) in inclusive.OrderByDescending(kv => kv.Value).Take(30)) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {n * 100.0 / Math.Max(total, 1),5:F1}%  {method}"));
    return 0;
}

// The sampled allocations of types named like `type`, by the first frames of our own code (or the
// runtime's, when none of ours is on the stack) that allocated them.
static int AllocationStacks(string trace, string type)
{
    using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(trace));
    var bySite = new Dictionary<string, long>();
    long total = 0;
    foreach (var e in log.Events)
    {
        if (e is not GCAllocationTickTraceData tick || tick.TypeName?.Contains(type, StringComparison.Ordinal) != true) continue;
        total += tick.AllocationAmount64;
        var frames = new List<string>();
        for (var frame = e.CallStack(); frame is not null && frames.Count < 4; frame = frame.Caller)
        {
            var name = frame.CodeAddress.FullMethodName;
            if (string.IsNullOrEmpty(name)) continue;
            if (frames.Count == 0 || name.StartsWith("Orleans.Membership", StringComparison.Ordinal) || frames.Count < 2) frames.Add(name);
        }
        var site = frames.Count == 0 ? "(no stack)" : string.Join("  <-  ", frames);
        bySite[site] = bySite.GetValueOrDefault(site) + tick.AllocationAmount64;
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{total / 1e6:F0} MB of sampled allocations of *{type}*, by where:"));
    foreach (var (site, bytes) in bySite.OrderByDescending(kv => kv.Value).Take(30))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {bytes * 100.0 / Math.Max(total, 1),5:F1}%  {site}"));
    }
    return 0;
}

double Stage(int index, string stage) => stagesOf.TryGetValue(index, out var of) ? of.GetValueOrDefault(stage) : 0;

static void AddTo(Dictionary<int, Dictionary<string, double>> into, int index, string stage, double ms)
{
    if (index < 0) return;
    if (!into.TryGetValue(index, out var of)) into[index] = of = [];
    of[stage] = of.GetValueOrDefault(stage) + ms;
}

static void Add(Dictionary<string, List<double>> into, string key, double value)
{
    if (!into.TryGetValue(key, out var list)) into[key] = list = [];
    list.Add(value);
}

static double Percentile(IEnumerable<double> values, double q)
{
    var sorted = values.OrderBy(v => v).ToArray();
    return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * q))];
}

static string Stats(IEnumerable<double> values, string unit = "ms")
{
    var list = values.ToList();
    return string.Create(CultureInfo.InvariantCulture, $"p50 {Percentile(list, 0.5):F2} p90 {Percentile(list, 0.9):F2} max {(list.Count == 0 ? 0 : list.Max()):F2} {unit}");
}

// The runtime's root kinds (GC_ROOT_KIND in the GC's event definitions).
static string RootName(int kind) => kind switch
{
    0 => "stacks",
    1 => "finalization queue",
    2 => "handles",
    3 => "older generations (cards)",
    4 => "sized references",
    5 => "mark stack overflow",
    6 => "dependent handles",
    7 => "new finalization queue",
    8 => "stealing",
    9 => "background",
    _ => $"root kind {kind}",
};

internal static partial class Program
{
    private const string AfterMarking = "after marking (plan, relocate, compact or sweep)";
}

internal sealed record Pause(int Index, double At, double Ms, double SuspendMs, double CollectMs, double ResumeMs,
    int Generation, string Type, string Reason, long PromotedGen0, long PromotedGen1);
