using System.Globalization;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>What a reader should know before trusting a scenario's figures, read from the figures themselves.</summary>
public static class Hints
{
    /// <summary>A stall: the slowest iteration of a second at least this many times the median second's slowest...</summary>
    private const double StallFactor = 10;
    /// <summary>... and at least this many milliseconds.</summary>
    private const double StallMinMs = 10;
    /// <summary>Failures are clustered when this share of them fell in at most a fifth of the seconds with load.</summary>
    private const double ClusterShare = 0.8;
    /// <summary>Cores this busy leave a request no core to run on at once: its latency includes the wait.</summary>
    private const double SaturatedPercent = 90;

    public static List<Hint> For(ScenarioReport s)
    {
        var hints = new List<Hint>();
        if (!s.Valid)
        {
            hints.Add(Hint.Warning($"The run is invalid: {s.InvalidReason}. The generator, not the system, was the bottleneck, so the figures say little about the system: use a lower --rate, fewer scenarios at once, or a machine of its own for the generator."));
        }
        else if (s.OpenModel && s.SchedulerLagMs.P99 >= 5)
        {
            hints.Add(Hint.Info($"The generator started iterations up to {Formats.Number(s.SchedulerLagMs.P99)} ms late (p99 of its start lag). That lag is part of the latency: latencies near it are in part the generator's."));
        }
        if (s.OpenModel && s.TargetRps > 0 && s.AchievedRps < 0.95 * s.TargetRps)
        {
            var shortfall = $"Completed {Formats.Number(s.AchievedRps)}/s OK of the {Formats.Number(s.TargetRps)}/s intended ({Formats.Number(100 * s.AchievedRps / s.TargetRps)}%)";
            hints.Add(Hint.Warning(s.AchievedRps + s.FailRps >= 0.95 * s.TargetRps
                ? $"{shortfall}: the rest, {Formats.Number(s.FailRps)}/s, failed (see the failures). A rate of failures is no throughput."
                : $"{shortfall}{(s.FailRps > 0 ? $" and {Formats.Number(s.FailRps)}/s failed" : "")}: the system did not keep up, the backlog queued, and its wait is in the latency."));
        }
        if (!s.OpenModel && s.Ok + s.Fail > 0)
        {
            hints.Add(Hint.Info("Closed model (no --rate): each copy starts its next iteration when the last one ends, so latency is service time at a fixed concurrency and a stall shows as one slow sample. Use --rate (an open model) to see how the system feels at a rate."));
        }
        if (s.Cpu is { MachineBusyPercent: >= SaturatedPercent } cpu)
        {
            hints.Add(Hint.Warning($"The machine's {cpu.Cores} cores were {Formats.Number(cpu.MachineBusyPercent)}% busy while the load ran (this generator took {Formats.Number(cpu.GeneratorPercent)}% of them): latency includes waiting for a core, so it measures the machine as much as the system. Give the generator a machine of its own, or lower the load."));
        }
        if (Stall(s) is { } stall) hints.Add(stall);
        if (Failures(s) is { } failures) hints.Add(failures);
        if (PartialSecond(s) is { } partial) hints.Add(partial);
        // The tables' percentiles are of every iteration, failed ones too.
        var n = s.Ok + s.Fail;
        if (n is > 0 and < 1000)
        {
            hints.Add(Hint.Info($"Only {n} iterations: p99.9{(n < 100 ? " and p99 are" : " is")} the slowest one or few, not a stable figure."));
        }
        return hints;
    }

    private static Hint? Stall(ScenarioReport s)
    {
        var shown = Charted(s);
        var slowest = s.PerSecond.LatencyMs.Max.Take(shown).Select((ms, second) => (ms, second)).Where(x => x.ms is not null).Select(x => (Ms: x.ms!.Value, x.second)).ToList();
        if (slowest.Count < 3) return null;
        var median = Median(slowest.Select(x => x.Ms));
        var worst = slowest.MaxBy(x => x.Ms);
        if (worst.Ms < StallMinMs || worst.Ms < StallFactor * median) return null;
        return Hint.Warning($"A stall in second {worst.second}: an iteration due then waited {Formats.Number(worst.Ms)} ms, where the slowest of a second is {Formats.Number(median)} ms at the median. Look at the node's log and GC around then.");
    }

    private static Hint? Failures(ScenarioReport s)
    {
        if (s.Fail == 0) return null;
        var fails = s.PerSecond.Fail;
        var loaded = s.PerSecond.Ok.Zip(fails, (ok, fail) => ok + fail).Count(n => n > 0);
        var busiest = fails.Select((n, second) => (n, second)).Where(x => x.n > 0).OrderByDescending(x => x.n).ToList();
        var total = busiest.Sum(x => x.n);
        if (total == 0) return null;
        var covered = 0L;
        var seconds = new List<int>();
        foreach (var (n, second) in busiest)
        {
            if (covered >= ClusterShare * total) break;
            covered += n;
            seconds.Add(second);
        }
        if (loaded >= 5 && seconds.Count <= Math.Max(1, loaded / 5))
        {
            var list = string.Join(", ", seconds.Order().Take(8)) + (seconds.Count > 8 ? ", ..." : "");
            return Hint.Warning($"Failures came in a burst: {Formats.Number(100.0 * covered / total)}% of the {total} failures fell in {seconds.Count} of {loaded} seconds (second {list}). Look at what happened then.");
        }
        return Hint.Info($"Failures are spread over the run: {total} in {busiest.Count} of {loaded} seconds.");
    }

    private static Hint? PartialSecond(ScenarioReport s)
    {
        var series = s.PerSecond.Ok.Count;
        if (series <= s.FullSeconds) return null;
        if (s.FullSeconds == 0)
        {
            return Hint.Info($"The load ran {Formats.Number(s.DurationSeconds)} s, less than a second: the per-second charts show that one partial second.");
        }
        var later = s.PerSecond.Ok.Skip(s.FullSeconds).Sum() + s.PerSecond.Fail.Skip(s.FullSeconds).Sum();
        var tail = s.DurationSeconds - s.FullSeconds;
        return Hint.Info(string.Create(CultureInfo.InvariantCulture,
            $"The per-second charts end at {s.FullSeconds} s: the load's last {tail:0.###} s (a partial second) and the drain after it are left out, so the end of a run does not look like a drop. Their {later} completed iterations are in every total (the rates count what completed before the load ended)."));
    }

    /// <summary>How many seconds the per-second charts show: the full ones, or the one partial second of a shorter run.</summary>
    public static int Charted(ScenarioReport s) => s.FullSeconds > 0 ? Math.Min(s.FullSeconds, s.PerSecond.Ok.Count) : Math.Min(1, s.PerSecond.Ok.Count);

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>Numbers as the reports print them: invariant culture, thousands grouped, at most three decimals.</summary>
public static class Formats
{
    public static string Number(double v)
    {
        if (!double.IsFinite(v)) return "n/a";
        var abs = Math.Abs(v);
        var format = abs >= 100 ? "#,0.#" : abs >= 10 ? "#,0.##" : "#,0.###";
        return v.ToString(format, CultureInfo.InvariantCulture);
    }

    public static string Count(long v) => v.ToString("#,0", CultureInfo.InvariantCulture);

    /// <summary>An achieved rate: the OK iterations per second, and the failed ones beside it when there were any.</summary>
    public static string Achieved(double okPerSecond, double failedPerSecond)
        => failedPerSecond > 0 ? $"{Number(okPerSecond)} ok/s (and {Number(failedPerSecond)} failed/s)" : $"{Number(okPerSecond)} ok/s";

    public static string Bytes(long v) => v switch
    {
        >= 1L << 30 => (v / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (v / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (v / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => v.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
