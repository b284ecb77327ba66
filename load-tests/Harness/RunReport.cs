using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using HdrHistogram;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>What a run is, beside what it measured: its title, the parameters it was started with, and warnings from before it started.</summary>
public sealed record RunInfo(string Title, IReadOnlyDictionary<string, string>? Parameters = null, IReadOnlyList<string>? Warnings = null);

/// <summary>
/// A run as report.json holds it: the one source the HTML and Markdown reports, <c>compare</c> and the
/// benchmark index read. Every field has a default, so older or hand-made files read too.
/// </summary>
public sealed record RunReport
{
    public string Title { get; init; } = "";
    /// <summary>The generator's version, and the commit it was built from when the build knew it.</summary>
    public string Generator { get; init; } = "";
    public string? Commit { get; init; }
    public string Machine { get; init; } = "";
    public DateTimeOffset Date { get; init; }
    /// <summary>Every threshold of every scenario passed.</summary>
    public bool Passed { get; init; }
    /// <summary>No scenario's generator fell behind.</summary>
    public bool Valid { get; init; }
    public Dictionary<string, string> Parameters { get; init; } = [];
    public List<string> Warnings { get; init; } = [];
    public List<ScenarioReport> Scenarios { get; init; } = [];

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Reads a report.json, or the report.json in a run's folder.</summary>
    public static RunReport Read(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "report.json") : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"no report.json at '{path}'", file);
        try
        {
            return JsonSerializer.Deserialize<RunReport>(File.ReadAllText(file), JsonOptions) ?? throw new InvalidDataException($"'{file}' is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{file}' is not a report.json: {e.Message}", e);
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>"80 of 400 requests failed (20%)" over every scenario, or null when none failed: a verdict says it beside PASSED.</summary>
    public string? FailedRequests()
    {
        var failed = Scenarios.Sum(s => s.Fail);
        var all = Scenarios.Sum(s => s.Ok + s.Fail);
        return failed == 0 ? null : $"{Formats.Count(failed)} of {Formats.Count(all)} requests failed ({Formats.Number(100.0 * failed / all)}%)";
    }

    public static RunReport From(IReadOnlyList<ScenarioResult> results, RunInfo info, DateTimeOffset date) => new()
    {
        Title = info.Title,
        Generator = GeneratorVersion().Version,
        Commit = GeneratorVersion().Commit,
        Machine = MachineDescription(),
        Date = date,
        Passed = results.All(r => r.ThresholdsPassed),
        Valid = results.All(r => r.Valid),
        Parameters = info.Parameters?.ToDictionary() ?? [],
        Warnings = info.Warnings?.ToList() ?? [],
        Scenarios = results.Select(ScenarioReport.From).ToList(),
    };

    /// <summary>The version of the harness, and the commit its build embedded (after the '+').</summary>
    public static (string Version, string? Commit) GeneratorVersion()
    {
        var version = typeof(RunReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (version, null) : (version[..plus], version[(plus + 1)..]);
    }

    private static string MachineDescription()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} cores{(cpu is null ? "" : $" ({cpu})")}, {memory:0.0} GiB, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}, .NET {Environment.Version}, host {Environment.MachineName}");
    }
}

/// <summary>One step's figures (or a whole iteration's: a scenario has them too).</summary>
public record StepReport
{
    public string Name { get; init; } = "";
    public long Ok { get; init; }
    public long Fail { get; init; }
    /// <summary>OK iterations completed while the load ran, per second of its duration (the drain's in <see cref="Ok"/> only).</summary>
    public double Rps { get; init; }
    /// <summary>Failed iterations completed while the load ran, per second of its duration (NBomber's <c>fail.request.rps</c>), beside <see cref="Rps"/>.</summary>
    public double FailRps { get; init; }
    public long Bytes { get; init; }
    /// <summary>Of every iteration, failed ones too (a failure is time its caller waited), from the intended start; thresholds judge the OK ones' alone.</summary>
    public LatencySummary LatencyMs { get; init; } = new();
    /// <summary>From when the request had a connection of the generator's: latency minus the generator's start lag and its wait for a connection.</summary>
    public LatencySummary ServiceTimeMs { get; init; } = new();
    public Dictionary<string, long> StatusCodes { get; init; } = [];
    public List<ThresholdOutcome> Thresholds { get; init; } = [];
    public List<PercentilePoint> LatencyDistributionMs { get; init; } = [];
    public List<PercentilePoint> ServiceTimeDistributionMs { get; init; } = [];
    public SecondSeries PerSecond { get; init; } = new();

    public double FailPercent => Ok + Fail == 0 ? 0 : 100.0 * Fail / (Ok + Fail);

    internal static StepReport From(Measurements m, double seconds, IEnumerable<(Threshold T, bool Passed)> thresholds)
    {
        var view = StatsView.From(m, seconds);
        return new()
        {
            Name = m.Name,
            Ok = m.Ok,
            Fail = m.Fail,
            Rps = Round(view.Ok.Request.RPS),
            FailRps = Round(view.Fail.Request.RPS),
            Bytes = m.Bytes,
            LatencyMs = LatencySummary.From(m.Latency),
            ServiceTimeMs = LatencySummary.From(m.ServiceTime),
            StatusCodes = m.StatusCodes.OrderBy(k => k.Key).ToDictionary(k => k.Key.ToString(CultureInfo.InvariantCulture), k => k.Value),
            Thresholds = thresholds.Select(t => new ThresholdOutcome(t.T.Description, t.Passed)).ToList(),
            LatencyDistributionMs = PercentilePoint.Curve(m.Latency),
            ServiceTimeDistributionMs = PercentilePoint.Curve(m.ServiceTime),
            PerSecond = SecondSeries.From(m),
        };
    }

    internal static double Round(double v) => double.IsFinite(v) ? Math.Round(v, 3) : 0;
}

/// <summary>A scenario: its iterations' figures, its steps', its load and whether the run can be trusted.</summary>
public sealed record ScenarioReport : StepReport
{
    /// <summary>How long the load ran (the drain after it not counted).</summary>
    public double DurationSeconds { get; init; }
    /// <summary>Seconds 0..FullSeconds-1 of the per-second series had load throughout; later ones are partial.</summary>
    public int FullSeconds { get; init; }
    /// <summary>The load simulations, in words.</summary>
    public string Load { get; init; } = "";
    /// <summary>Open model: iterations started at intended instants, whatever the system's speed.</summary>
    public bool OpenModel { get; init; }
    public double TargetRps { get; init; }
    /// <summary>OK iterations per second, as <see cref="StepReport.Rps"/>: the failed ones are in <see cref="StepReport.FailRps"/>.</summary>
    public double AchievedRps { get; init; }
    public LatencySummary SchedulerLagMs { get; init; } = new();
    public List<PercentilePoint> SchedulerLagDistributionMs { get; init; } = [];
    /// <summary>The slowest latency of the iterations due in each second (also in <see cref="SecondSeries.LatencyMs"/>).</summary>
    public List<double> MaxLatencyMsPerSecond { get; init; } = [];
    public bool Valid { get; init; } = true;
    public string? InvalidReason { get; init; }
    /// <summary>
    /// Units per second of the load (festival: eventsPerSecond, rejectedEventsPerSecond): what the answers
    /// counted while the load ran, or units per OK iteration times <see cref="StepReport.Rps"/>.
    /// </summary>
    public Dictionary<string, double> Metrics { get; init; } = [];
    /// <summary>What the answers counted in all, the drain's too (festival: events applied, rejectedEvents).</summary>
    public Dictionary<string, long> Units { get; init; } = [];
    public Dictionary<string, double> UnitsPerIteration { get; init; } = [];
    public List<StepReport> Steps { get; init; } = [];
    /// <summary>The most frequent failure messages and their counts.</summary>
    public Dictionary<string, long> Failures { get; init; } = [];
    public List<Hint> Hints { get; init; } = [];
    /// <summary>How busy the machine was while the run's load ran, and this generator's share; null when not measured.</summary>
    public CpuUse? Cpu { get; init; }

    [JsonIgnore]
    public IEnumerable<ThresholdRow> AllThresholds => Thresholds.Select(t => new ThresholdRow(Name, null, t))
        .Concat(Steps.SelectMany(s => s.Thresholds.Select(t => new ThresholdRow(Name, s.Name, t))));

    internal static ScenarioReport From(ScenarioResult r)
    {
        var entry = From(r.Stats.Iterations, r.DurationSeconds, r.Thresholds.Where(t => t.Threshold.StepName is null));
        var perSecond = entry.PerSecond with { Intended = r.Stats.Intended > 0 ? Trim(r.Stats.IntendedPerSecond, entry.PerSecond.Ok.Count) : null };
        var scenario = new ScenarioReport
        {
            Name = entry.Name, Ok = entry.Ok, Fail = entry.Fail, Rps = entry.Rps, FailRps = entry.FailRps, Bytes = entry.Bytes,
            LatencyMs = entry.LatencyMs, ServiceTimeMs = entry.ServiceTimeMs, StatusCodes = entry.StatusCodes,
            Thresholds = entry.Thresholds, LatencyDistributionMs = entry.LatencyDistributionMs,
            ServiceTimeDistributionMs = entry.ServiceTimeDistributionMs, PerSecond = perSecond,
            DurationSeconds = Round(r.DurationSeconds),
            FullSeconds = (int)Math.Floor(r.DurationSeconds + 1e-9),
            Load = string.Join(", then ", r.Scenario.Simulations.Select(Describe)),
            OpenModel = r.Stats.Intended > 0,
            TargetRps = Round(r.TargetRate),
            AchievedRps = Round(r.AchievedRate),
            SchedulerLagMs = LatencySummary.From(r.Stats.SchedulerLag),
            SchedulerLagDistributionMs = PercentilePoint.Curve(r.Stats.SchedulerLag),
            MaxLatencyMsPerSecond = SlowestPerSecond(r.Stats.Iterations),
            Valid = r.Valid,
            InvalidReason = r.InvalidReason,
            Metrics = UnitRates(r, entry.Rps),
            Units = r.Stats.Iterations.Units.OrderBy(u => u.Key, StringComparer.Ordinal).ToDictionary(u => u.Key, u => u.Value.Total),
            UnitsPerIteration = r.Scenario.UnitsPerOkIteration.Where(u => !r.Stats.Iterations.Units.ContainsKey(u.Key)).ToDictionary(),
            Steps = r.Stats.Steps.Select(s => From(s, r.DurationSeconds, r.Thresholds.Where(t => t.Threshold.StepName == s.Name))).ToList(),
            Failures = r.Stats.Iterations.FailMessages.OrderByDescending(k => k.Value).Take(10).ToDictionary(),
            Cpu = r.Cpu,
        };
        return scenario with { Hints = Harness.Hints.For(scenario) };
    }

    /// <summary>Units per second of the load: those the answers counted, else units per OK iteration times the OK rate.</summary>
    internal static Dictionary<string, double> UnitRates(ScenarioResult r, double okRps)
    {
        var counted = r.Stats.Iterations.Units;
        var metrics = counted.OrderBy(u => u.Key, StringComparer.Ordinal)
            .ToDictionary(u => u.Key + "PerSecond", u => Round(r.DurationSeconds <= 0 ? 0 : u.Value.InLoad / r.Stats.Iterations.AnsweringSeconds(r.DurationSeconds)));
        foreach (var (unit, per) in r.Scenario.UnitsPerOkIteration.Where(u => !counted.ContainsKey(u.Key))) metrics[unit + "PerSecond"] = Round(okRps * per);
        return metrics;
    }

    /// <summary>The slowest latency of the iterations due in each second, up to the last second one was due in.</summary>
    private static List<double> SlowestPerSecond(Measurements m)
    {
        var seconds = m.MaxLatencyMicrosPerSecond;
        var last = seconds.Count - 1;
        while (last >= 0 && seconds[last] == 0) last--;
        return seconds.Take(last + 1).Select(us => Round(us / 1000.0)).ToList();
    }

    private static List<long> Trim(IReadOnlyList<long> values, int length)
        => values.Take(Math.Max(length, LastNonZero(values) + 1)).ToList();

    internal static int LastNonZero(IReadOnlyList<long> values)
    {
        var last = values.Count - 1;
        while (last >= 0 && values[last] == 0) last--;
        return last;
    }

    private static string Describe(LoadSimulation s) => s switch
    {
        LoadSimulation.InjectPhase p => $"{PerInterval(p.Rate, p.Interval)} for {Span(p.During)} (open model)",
        LoadSimulation.RampingInjectPhase p => $"ramp to {PerInterval(p.Rate, p.Interval)} over {Span(p.During)} (open model)",
        LoadSimulation.KeepConstantPhase p => string.Create(CultureInfo.InvariantCulture, $"{p.Copies} copies for {Span(p.During)} (closed model)"),
        LoadSimulation.IterationsForConstantPhase p => string.Create(CultureInfo.InvariantCulture, $"{p.Iterations} iterations on {p.Copies} copies (closed model)"),
        LoadSimulation.PausePhase p => $"pause {Span(p.During)}",
        _ => s.ToString(),
    };

    private static string PerInterval(int rate, TimeSpan interval) => interval == TimeSpan.FromSeconds(1)
        ? string.Create(CultureInfo.InvariantCulture, $"{rate}/s")
        : string.Create(CultureInfo.InvariantCulture, $"{rate} per {Span(interval)}");

    internal static string Span(TimeSpan t) => t.TotalSeconds >= 1 && t.TotalSeconds == Math.Floor(t.TotalSeconds)
        ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0}s")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0.###}ms");
}

/// <summary>Latency figures in milliseconds (all zero when nothing was recorded).</summary>
public sealed record LatencySummary
{
    public double Min { get; init; }
    public double Mean { get; init; }
    public double StdDev { get; init; }
    public double P50 { get; init; }
    public double P75 { get; init; }
    public double P95 { get; init; }
    public double P99 { get; init; }
    public double P999 { get; init; }
    public double Max { get; init; }

    public static LatencySummary From(HistogramBase h)
    {
        if (h.TotalCount == 0) return new LatencySummary();
        double Ms(long micros) => StepReport.Round(micros / 1000.0);
        return new LatencySummary
        {
            Min = Ms(h.LowestEquivalentValue(h.RecordedValues().First().ValueIteratedTo)),
            Mean = StepReport.Round(h.GetMean() / 1000.0),
            StdDev = StepReport.Round(h.GetStdDeviation() / 1000.0),
            P50 = Ms(h.GetValueAtPercentile(50)),
            P75 = Ms(h.GetValueAtPercentile(75)),
            P95 = Ms(h.GetValueAtPercentile(95)),
            P99 = Ms(h.GetValueAtPercentile(99)),
            P999 = Ms(h.GetValueAtPercentile(99.9)),
            Max = Ms(h.GetMaxValue()),
        };
    }
}

/// <summary>One point of a latency-by-percentile curve.</summary>
public sealed record PercentilePoint(double Percentile, double Ms)
{
    /// <summary>Tenth-of-a-decade steps of 1/(1-p), as HdrHistogram plots them, up to where the count runs out, then the maximum.</summary>
    internal static List<PercentilePoint> Curve(HistogramBase h)
    {
        if (h.TotalCount == 0) return [];
        var points = new List<PercentilePoint>();
        var decades = Math.Log10(h.TotalCount);
        for (var tenth = 0; tenth / 10.0 < decades; tenth++)
        {
            var p = 100 * (1 - Math.Pow(10, -tenth / 10.0));
            points.Add(new PercentilePoint(Math.Round(p, 6), StepReport.Round(h.GetValueAtPercentile(p) / 1000.0)));
        }
        points.Add(new PercentilePoint(100, StepReport.Round(h.GetMaxValue() / 1000.0)));
        return points;
    }
}

public sealed record ThresholdOutcome(string Description, bool Passed);

public sealed record ThresholdRow(string Scenario, string? Step, ThresholdOutcome Outcome);

/// <summary>Something a reader should know to read the figures right.</summary>
public sealed record Hint(string Level, string Text)
{
    public static Hint Warning(string text) => new("warning", text);
    public static Hint Info(string text) => new("info", text);
}

/// <summary>
/// A step's or scenario's figures for each second of the run from its start: counts by the second an
/// iteration completed in, latency by the second it was due in (null where none was), the target by the
/// second iterations were due in (open model only).
/// </summary>
public sealed record SecondSeries
{
    public List<long> Ok { get; init; } = [];
    public List<long> Fail { get; init; } = [];
    public List<long>? Intended { get; init; }
    /// <summary>What the answers completed in each second counted, by unit.</summary>
    public Dictionary<string, List<long>> Units { get; init; } = [];
    public PercentileSeries LatencyMs { get; init; } = new();

    internal static SecondSeries From(Measurements m)
    {
        var histograms = m.LatencyPerSecond;
        var last = Math.Max(ScenarioReport.LastNonZero(m.OkPerSecond), ScenarioReport.LastNonZero(m.FailPerSecond));
        for (var s = histograms.Count - 1; s > last; s--)
        {
            if (histograms[s] is not null) { last = s; break; }
        }
        var n = last + 1;
        double? At(int s, Func<HistogramBase, double> f) => histograms[s] is { TotalCount: > 0 } h ? StepReport.Round(f(h) / 1000.0) : null;
        List<double?> Series(Func<HistogramBase, double> f) => Enumerable.Range(0, n).Select(s => At(s, f)).ToList();
        var maxMs = m.MaxLatencyMicrosPerSecond;
        return new SecondSeries
        {
            Ok = m.OkPerSecond.Take(n).ToList(),
            Fail = m.FailPerSecond.Take(n).ToList(),
            Units = m.Units.OrderBy(u => u.Key, StringComparer.Ordinal).ToDictionary(u => u.Key, u => u.Value.PerSecond.Take(n).ToList()),
            LatencyMs = new PercentileSeries
            {
                Mean = Series(h => h.GetMean()),
                P50 = Series(h => h.GetValueAtPercentile(50)),
                P75 = Series(h => h.GetValueAtPercentile(75)),
                P95 = Series(h => h.GetValueAtPercentile(95)),
                P99 = Series(h => h.GetValueAtPercentile(99)),
                P999 = Series(h => h.GetValueAtPercentile(99.9)),
                Max = Enumerable.Range(0, n).Select(s => histograms[s] is null ? (double?)null : StepReport.Round(maxMs[s] / 1000.0)).ToList(),
            },
        };
    }
}

/// <summary>Latency figures per second (milliseconds; the maximum exact, the others to two significant digits).</summary>
public sealed record PercentileSeries
{
    public List<double?> Mean { get; init; } = [];
    public List<double?> P50 { get; init; } = [];
    public List<double?> P75 { get; init; } = [];
    public List<double?> P95 { get; init; } = [];
    public List<double?> P99 { get; init; } = [];
    public List<double?> P999 { get; init; } = [];
    public List<double?> Max { get; init; } = [];
}
