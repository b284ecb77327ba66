using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>
/// Counts and HdrHistograms (microseconds) of one step or scenario: latency from the intended start,
/// service time from when the request had a connection, OK/fail per second of the run (by the second they completed in),
/// and latency per second (by the second the iteration was due in) for the charts over time; second 0
/// begins at the load's start, when its first iteration is due.
/// </summary>
public sealed class Measurements
{
    private const long MaxMicros = 3_600_000_000; // an hour: anything slower is recorded as an hour
    private const long MaxMicrosPerSecondHistogram = 60_000_000; // a minute: the exact maximum is kept beside
    private readonly long _loadStart;
    private readonly long[] _okPerSecond;
    private readonly long[] _failPerSecond;
    private readonly long[] _maxMicrosPerSecond;
    // Allocated when a second sees its first iteration; two significant digits keep a second's at 10 KB.
    private readonly HistogramBase?[] _latencyPerSecond;
    private long _ok, _fail, _bytes;
    private long _okInLoad, _failInLoad;
    // The first answer (Stopwatch ticks): before it no iteration could have completed, at any rate.
    private long _firstEnd = long.MaxValue;
    // Until the load ends every completion falls within it; then those after it are the drain's.
    private long _loadEnd = long.MaxValue;
    private readonly ConcurrentDictionary<string, UnitCount> _units = new(StringComparer.Ordinal);

    public Measurements(string name, long loadStart, int seconds)
    {
        Name = name;
        _loadStart = loadStart;
        _okPerSecond = new long[seconds + 1];
        _failPerSecond = new long[seconds + 1];
        _maxMicrosPerSecond = new long[seconds + 1];
        _latencyPerSecond = new HistogramBase?[seconds + 1];
    }

    public string Name { get; }
    /// <summary>Every iteration's latency, failed ones too (a failure is time its caller waited): the report's tables and charts.</summary>
    public HistogramBase Latency { get; } = new LongConcurrentHistogram(1, 1, MaxMicros, 3);
    /// <summary>The OK iterations' latency alone (NBomber's <c>Ok.Latency</c>): what thresholds judge.</summary>
    public HistogramBase OkLatency { get; } = new LongConcurrentHistogram(1, 1, MaxMicros, 3);
    /// <summary>The failed iterations' latency alone (NBomber's <c>Fail.Latency</c>).</summary>
    public HistogramBase FailLatency { get; } = new LongConcurrentHistogram(1, 1, MaxMicros, 3);
    /// <summary>From when the request had a connection (<see cref="ServiceClock"/>) to its answer: the server's time, its queue included.</summary>
    public HistogramBase ServiceTime { get; } = new LongConcurrentHistogram(1, 1, MaxMicros, 3);
    public long Ok => Interlocked.Read(ref _ok);
    public long Fail => Interlocked.Read(ref _fail);
    public long Bytes => Interlocked.Read(ref _bytes);
    /// <summary>OK iterations that completed while the load ran (not in the drain after it): the achieved rate's count.</summary>
    public long OkInLoad => Interlocked.Read(ref _okInLoad);
    /// <summary>Failed iterations that completed while the load ran.</summary>
    public long FailInLoad => Interlocked.Read(ref _failInLoad);
    /// <summary>What the answers counted (<see cref="Response.Units"/>, e.g. events applied), by unit.</summary>
    public IReadOnlyDictionary<string, UnitCount> Units => _units;
    public ConcurrentDictionary<int, long> StatusCodes { get; } = new();
    public ConcurrentDictionary<string, long> FailMessages { get; } = new();

    public IReadOnlyList<long> OkPerSecond => _okPerSecond;
    public IReadOnlyList<long> FailPerSecond => _failPerSecond;
    /// <summary>The slowest latency (microseconds) of the iterations due in each second of the run: where a stall was.</summary>
    public IReadOnlyList<long> MaxLatencyMicrosPerSecond => _maxMicrosPerSecond;
    /// <summary>The latency (microseconds, two significant digits, at most a minute) of the iterations due in each second; null where none was.</summary>
    public IReadOnlyList<HistogramBase?> LatencyPerSecond => _latencyPerSecond;

    private int _closed;
    private int _recording;
    private long _late;

    /// <summary>Recordings that came after <see cref="Close"/>: not counted.</summary>
    public long Late => Interlocked.Read(ref _late);

    /// <summary>
    /// The seconds a rate divides by: from the first answer to the end of the load, so the first iteration's
    /// latency (no answer can come sooner) does not read as a lower rate; the load's seconds when nothing was answered.
    /// </summary>
    public double AnsweringSeconds(double loadSeconds)
    {
        var first = Interlocked.Read(ref _firstEnd);
        if (first == long.MaxValue) return loadSeconds;
        var seconds = loadSeconds - Math.Max(0, Stopwatch.GetElapsedTime(_loadStart, first).TotalSeconds);
        return seconds > 0 ? seconds : loadSeconds;
    }

    /// <summary>Marks the end of the load (Stopwatch ticks): what completes after it is the drain's, out of the rates.</summary>
    public void EndLoad(long at) => Volatile.Write(ref _loadEnd, at);

    /// <summary>Stops counting, once every recording under way is done: the report reads the figures while late iterations may still complete.</summary>
    public void Close()
    {
        Volatile.Write(ref _closed, 1);
        var wait = new SpinWait();
        while (Volatile.Read(ref _recording) != 0) wait.SpinOnce();
    }

    public void Record(long from, long start, long end, Response response)
    {
        Interlocked.Increment(ref _recording);
        try
        {
            if (Volatile.Read(ref _closed) != 0)
            {
                Interlocked.Increment(ref _late);
                return;
            }
            RecordOpen(from, start, end, response);
        }
        finally
        {
            Interlocked.Decrement(ref _recording);
        }
    }

    private void RecordOpen(long from, long start, long end, Response response)
    {
        var latency = Math.Clamp(Micros(end - from), 1, MaxMicros);
        Latency.RecordValue(latency);
        var due = (int)Math.Clamp(Stopwatch.GetElapsedTime(_loadStart, from).TotalSeconds, 0, _maxMicrosPerSecond.Length - 1);
        SecondHistogram(due).RecordValue(Math.Min(latency, MaxMicrosPerSecondHistogram));
        ref var slowest = ref _maxMicrosPerSecond[due];
        for (var seen = Volatile.Read(ref slowest); latency > seen;)
        {
            var before = Interlocked.CompareExchange(ref slowest, latency, seen);
            if (before == seen) break;
            seen = before;
        }
        ServiceTime.RecordValue(Math.Clamp(Micros(end - start), 1, MaxMicros));
        var second = (int)Math.Clamp(Stopwatch.GetElapsedTime(_loadStart, end).TotalSeconds, 0, _okPerSecond.Length - 1);
        var inLoad = end <= Volatile.Read(ref _loadEnd);
        for (var first = Interlocked.Read(ref _firstEnd); end < first;)
        {
            var before = Interlocked.CompareExchange(ref _firstEnd, end, first);
            if (before == first) break;
            first = before;
        }
        (response.IsOk ? OkLatency : FailLatency).RecordValue(latency);
        if (response.IsOk)
        {
            Interlocked.Increment(ref _ok);
            if (inLoad) Interlocked.Increment(ref _okInLoad);
            Interlocked.Increment(ref _okPerSecond[second]);
        }
        else
        {
            Interlocked.Increment(ref _fail);
            if (inLoad) Interlocked.Increment(ref _failInLoad);
            Interlocked.Increment(ref _failPerSecond[second]);
            FailMessages.AddOrUpdate(response.Message ?? $"status {response.StatusCode}", 1, (_, n) => n + 1);
        }
        Interlocked.Add(ref _bytes, response.SizeBytes);
        StatusCodes.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
        if (response.Units is { } units)
        {
            foreach (var (unit, n) in units) _units.GetOrAdd(unit, _ => new UnitCount(_okPerSecond.Length)).Add(n, second, inLoad);
        }
    }

    public static long Micros(long stopwatchTicks) => stopwatchTicks * 1_000_000 / Stopwatch.Frequency;

    private HistogramBase SecondHistogram(int second)
    {
        var histogram = Volatile.Read(ref _latencyPerSecond[second]);
        if (histogram is not null) return histogram;
        var fresh = new IntConcurrentHistogram(1, MaxMicrosPerSecondHistogram, 2);
        return Interlocked.CompareExchange(ref _latencyPerSecond[second], fresh, null) ?? fresh;
    }
}

/// <summary>A unit the answers counted (e.g. events applied): in all, while the load ran, and per second of completion.</summary>
public sealed class UnitCount(int seconds)
{
    private readonly long[] _perSecond = new long[seconds];
    private long _total, _inLoad;
    public long Total => Interlocked.Read(ref _total);
    public long InLoad => Interlocked.Read(ref _inLoad);
    public IReadOnlyList<long> PerSecond => _perSecond;

    internal void Add(long n, int second, bool inLoad)
    {
        Interlocked.Add(ref _total, n);
        if (inLoad) Interlocked.Add(ref _inLoad, n);
        Interlocked.Add(ref _perSecond[second], n);
    }
}

/// <summary>A scenario's measurements: the whole iteration, each step, and the scheduler's own lag.</summary>
public sealed class ScenarioStats(string name, long loadStart, int seconds)
{
    private readonly ConcurrentDictionary<string, Measurements> _steps = new();
    private readonly long[] _intendedPerSecond = new long[seconds + 1];
    // Iterations started and not yet recorded: those still here when the drain ends are failures.
    private readonly ConcurrentDictionary<ScenarioContext, byte> _pending = new(ReferenceEqualityComparer.Instance);
    private long _loadEnd = long.MaxValue;
    private int _closing;
    private int _recording;
    private long _unanswered;
    public string Name { get; } = name;
    /// <summary>When the load's first iteration is due (Stopwatch ticks): second 0 of every per-second series begins here.</summary>
    public long LoadStart { get; } = loadStart;
    public Measurements Iterations { get; } = new(name, loadStart, seconds);
    /// <summary>How late the scheduler started iterations, in microseconds: the generator's own health.</summary>
    public HistogramBase SchedulerLag { get; } = new LongConcurrentHistogram(1, 1, 3_600_000_000, 3);
    public long Intended;
    public long Started;
    public long WaitedForInFlightCap;
    /// <summary>Open model: the iterations due in each second of the run, the target the achieved rate is drawn against.</summary>
    public IReadOnlyList<long> IntendedPerSecond => _intendedPerSecond;
    /// <summary>Iterations still unanswered when the drain ended, counted as failed by <see cref="Close"/>.</summary>
    public long Unanswered => Interlocked.Read(ref _unanswered);
    public IEnumerable<Measurements> Steps => _steps.Values.OrderBy(s => s.Name, StringComparer.Ordinal);

    public Measurements StepNamed(string step) => _steps.GetOrAdd(step, n =>
    {
        var m = new Measurements(n, LoadStart, seconds);
        m.EndLoad(Interlocked.Read(ref _loadEnd));
        return m;
    });

    /// <summary>Marks the end of the load in every measurement (<see cref="Measurements.EndLoad"/>).</summary>
    public void EndLoad(long at)
    {
        Interlocked.Exchange(ref _loadEnd, at);
        Iterations.EndLoad(at);
        foreach (var step in _steps.Values) step.EndLoad(at);
    }

    /// <summary>An iteration has started: until it is recorded, <see cref="Close"/> counts it as unanswered.</summary>
    internal void Begin(ScenarioContext iteration) => _pending.TryAdd(iteration, 0);

    /// <summary>Whether the caller may still record; when true it must call <see cref="Exit"/> once it has.</summary>
    internal bool Enter()
    {
        Interlocked.Increment(ref _recording);
        if (Volatile.Read(ref _closing) == 0) return true;
        Interlocked.Decrement(ref _recording);
        return false;
    }

    internal void Exit() => Interlocked.Decrement(ref _recording);

    /// <summary>Takes the iteration out of the unanswered ones: true the first time, when it is the caller's to record.</summary>
    internal bool Settle(ScenarioContext iteration) => _pending.TryRemove(iteration, out _);

    /// <summary>
    /// Stops counting: every iteration (and the step it was in) still unanswered is recorded as failed with
    /// <paramref name="unanswered"/> and a latency up to now, then every measurement is closed
    /// (<see cref="Measurements.Close"/>), so each iteration started is counted exactly once.
    /// </summary>
    public void Close(string unanswered = "no answer within the drain after the load")
    {
        Interlocked.Exchange(ref _closing, 1);
        var wait = new SpinWait();
        while (Volatile.Read(ref _recording) != 0) wait.SpinOnce();
        var now = Stopwatch.GetTimestamp();
        foreach (var iteration in _pending.Keys)
        {
            if (!Settle(iteration)) continue;
            var failure = Response.Fail(message: unanswered);
            if (iteration.TakeOpenStep() is { } step) step.Stats.Record(step.From, step.Start, now, failure);
            Iterations.Record(iteration.IntendedStart, iteration.Start, now, failure);
            Interlocked.Increment(ref _unanswered);
        }
        Iterations.Close();
        foreach (var step in _steps.Values) step.Close();
    }

    /// <summary>Counts an iteration the scheduler meant to start at <paramref name="intended"/> (Stopwatch ticks).</summary>
    public void CountIntended(long intended)
    {
        Interlocked.Increment(ref Intended);
        var second = (int)Math.Clamp(Stopwatch.GetElapsedTime(LoadStart, intended).TotalSeconds, 0, _intendedPerSecond.Length - 1);
        Interlocked.Increment(ref _intendedPerSecond[second]);
    }
}

/// <summary>
/// Statistics as thresholds and reports read them, in NBomber's shape (<c>stats.Ok.Latency.Percent99</c>).
/// Counts and percentages are of every iteration, the drain's too; a rate (RPS) counts the completions
/// while the load ran, over the load's seconds from its first answer (<see cref="Measurements.AnsweringSeconds"/>),
/// so what the node answered only after the load stopped is no rate it sustained.
/// </summary>
public sealed record StatsView(string Name, MeasurementView Ok, MeasurementView Fail, double DurationSeconds)
{
    public static StatsView From(Measurements m, double seconds)
    {
        var answering = m.AnsweringSeconds(seconds);
        return new(
            m.Name,
            new MeasurementView(new RequestView(m.Ok, Rate(m.OkInLoad, answering), Percent(m.Ok, m.Ok + m.Fail)), LatencyView.From(m.OkLatency), m.Bytes),
            new MeasurementView(new RequestView(m.Fail, Rate(m.FailInLoad, answering), Percent(m.Fail, m.Ok + m.Fail)), LatencyView.From(m.FailLatency), 0),
            seconds);
    }

    private static double Rate(long n, double seconds) => seconds <= 0 ? 0 : n / seconds;
    private static double Percent(long n, long total) => total == 0 ? 0 : 100.0 * n / total;
}

public sealed record MeasurementView(RequestView Request, LatencyView Latency, long Bytes);
public sealed record RequestView(long Count, double RPS, double Percent);

/// <summary>Latency figures in milliseconds, named as NBomber's <c>LatencyStats</c> names them (and p99.9 beside).</summary>
public sealed record LatencyView(double Percent50, double Percent75, double Percent95, double Percent99, double Percent999, double MaxMs, double MeanMs, double MinMs, double StdDev)
{
    public static LatencyView From(HistogramBase h) => h.TotalCount == 0
        ? new LatencyView(0, 0, 0, 0, 0, 0, 0, 0, 0)
        : new LatencyView(Ms(h.GetValueAtPercentile(50)), Ms(h.GetValueAtPercentile(75)), Ms(h.GetValueAtPercentile(95)),
            Ms(h.GetValueAtPercentile(99)), Ms(h.GetValueAtPercentile(99.9)), Ms(h.GetMaxValue()), h.GetMean() / 1000.0,
            Ms(h.LowestEquivalentValue(h.RecordedValues().First().ValueIteratedTo)), h.GetStdDeviation() / 1000.0);

    private static double Ms(long micros) => micros / 1000.0;
}
