using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HdrHistogram;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>Writes a run's results: console summary, report.json (the source of the others), Markdown, HTML, CSV and .hgrm.</summary>
public static class Reports
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public const string Files = "report.json, report.md, report.html, report.csv, *.hgrm";

    public static void WriteAll(IReadOnlyList<ScenarioResult> results, string folder, string title) => WriteAll(results, folder, new RunInfo(title));

    public static RunReport WriteAll(IReadOnlyList<ScenarioResult> results, string folder, RunInfo info)
    {
        Directory.CreateDirectory(folder);
        var run = RunReport.From(results, info, DateTimeOffset.UtcNow);
        File.WriteAllText(Path.Combine(folder, "report.json"), run.ToJson());
        File.WriteAllText(Path.Combine(folder, "report.md"), Markdown(run));
        File.WriteAllText(Path.Combine(folder, "report.html"), HtmlReport.Render(run));
        File.WriteAllText(Path.Combine(folder, "report.csv"), Csv(run));
        foreach (var r in results)
        {
            using var writer = new StreamWriter(Path.Combine(folder, $"{r.Scenario.Name}.hgrm"));
            // Recorded in microseconds; the distribution is written in milliseconds.
            r.Stats.Iterations.Latency.OutputPercentileDistribution(writer, 5, 1000.0, false);
        }
        return run;
    }

    /// <summary>report.json's content as a JSON tree.</summary>
    public static JsonObject Json(IReadOnlyList<ScenarioResult> results, string title)
        => JsonSerializer.SerializeToNode(RunReport.From(results, new RunInfo(title), DateTimeOffset.UtcNow), RunReport.JsonOptions)!.AsObject();

    private static IEnumerable<(string Name, Measurements M)> Rows(ScenarioResult r)
        => r.Stats.Steps.Select(s => ($"{r.Scenario.Name}/{s.Name}", s)).Prepend((r.Scenario.Name, r.Stats.Iterations));

    /// <summary>The slowest latency of the iterations due in each second, up to the last second one was due in.</summary>
    private static long[] SecondsOf(ScenarioResult r)
    {
        var seconds = r.Stats.Iterations.MaxLatencyMicrosPerSecond;
        var last = seconds.Count - 1;
        while (last >= 0 && seconds[last] == 0) last--;
        return seconds.Take(last + 1).ToArray();
    }

    public static string Console(IReadOnlyList<ScenarioResult> results)
    {
        var sb = new StringBuilder();
        foreach (var r in results)
        {
            sb.AppendLine(Inv, $"scenario {r.Scenario.Name}: {r.DurationSeconds:0.0}s, {(r.Stats.Intended > 0 ? string.Create(Inv, $"target {r.TargetRate:0.#}/s") : "closed model")}, achieved {Formats.Achieved(r.AchievedRate, r.FailedRate)}, {(r.Valid ? "valid" : "INVALID: " + r.InvalidReason)}");
            foreach (var (name, m) in Rows(r))
            {
                var v = StatsView.From(m, r.DurationSeconds);
                sb.AppendLine(Inv, $"  {name,-28} ok {m.Ok,9} fail {m.Fail,7} ok/s {v.Ok.Request.RPS,10:0.0}{(m.Fail > 0 ? $" failed/s {v.Fail.Request.RPS:0.0}" : "")}  p50 {v.Ok.Latency.Percent50,8:0.000} p75 {v.Ok.Latency.Percent75,8:0.000} p95 {v.Ok.Latency.Percent95,8:0.000} p99 {v.Ok.Latency.Percent99,8:0.000} p99.9 {v.Ok.Latency.Percent999,8:0.000} max {v.Ok.Latency.MaxMs,9:0.000} ms{(m.Fail > 0 ? " (the OK requests')" : "")}");
            }
            foreach (var (metric, perSecond) in ScenarioReport.UnitRates(r, r.View.Ok.Request.RPS)) sb.AppendLine(Inv, $"  {metric[..^"PerSecond".Length]}/s: {perSecond:0.0}");
            var lag = LatencyView.From(r.Stats.SchedulerLag);
            if (r.Stats.Intended > 0) sb.AppendLine(Inv, $"  scheduler lag p50 {lag.Percent50:0.000} p99 {lag.Percent99:0.000} max {lag.MaxMs:0.000} ms");
            if (r.Cpu is { } cpu) sb.AppendLine(Inv, $"  cpu: {cpu.Describe()}");
            var seconds = SecondsOf(r);
            if (seconds.Length > 0)
            {
                var worst = Array.IndexOf(seconds, seconds.Max());
                sb.AppendLine(Inv, $"  slowest second: {worst} s into the run, max {seconds[worst] / 1000.0:0.000} ms");
            }
            foreach (var (t, passed) in r.Thresholds) sb.AppendLine(Inv, $"  threshold {(passed ? "passed" : "FAILED")}: {t.Description}");
            foreach (var (message, count) in r.Stats.Iterations.FailMessages.OrderByDescending(k => k.Value).Take(3)) sb.AppendLine(Inv, $"  failure x{count}: {message}");
        }
        return sb.ToString();
    }

    public static string Markdown(RunReport run)
    {
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"# {run.Title}").AppendLine();
        sb.AppendLine(Inv, $"{run.Date:yyyy-MM-dd HH:mm:ss} UTC, generator {run.Generator}{(run.Commit is null ? "" : $" (commit {run.Commit})")}, {run.Machine}").AppendLine();
        var failed = run.Scenarios.SelectMany(s => s.AllThresholds).Where(t => !t.Outcome.Passed).ToList();
        var verdict = run.Passed && run.Valid ? "**PASSED**" : string.Join(" ", new[] { failed.Count > 0 ? $"**FAILED** ({failed.Count} thresholds)" : null, run.Valid ? null : "**INVALID** (the generator fell behind)" }.Where(x => x is not null));
        sb.AppendLine(run.FailedRequests() is { } failedRequests ? $"{verdict}, {(run.Passed && run.Valid ? "but " : "")}{failedRequests}" : verdict).AppendLine();
        foreach (var w in run.Warnings) sb.AppendLine(Inv, $"- warning: {w}");
        foreach (var s in run.Scenarios)
        {
            foreach (var t in s.AllThresholds) sb.AppendLine(Inv, $"- threshold {(t.Outcome.Passed ? "passed" : "**failed**")} ({(t.Step is null ? t.Scenario : $"{t.Scenario} / {t.Step}")}): {t.Outcome.Description}");
        }
        if (run.Parameters.Count > 0)
        {
            sb.AppendLine().AppendLine("| parameter | value |").AppendLine("|---|---|");
            foreach (var (name, value) in run.Parameters) sb.AppendLine(Inv, $"| {name} | {value} |");
        }
        sb.AppendLine().AppendLine("| scenario / step | ok | fail | ok/s | failed/s | min ms | mean ms | stddev ms | p50 ms | p75 ms | p95 ms | p99 ms | p99.9 ms | max ms |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in run.Scenarios)
        {
            foreach (var (name, e) in s.Steps.Select(step => ($"{s.Name}/{step.Name}", step)).Prepend((s.Name, (StepReport)s)))
            {
                var l = e.LatencyMs;
                sb.AppendLine(Inv, $"| {name} | {e.Ok} | {e.Fail} | {e.Rps:0.0} | {e.FailRps:0.0} | {l.Min:0.000} | {l.Mean:0.000} | {l.StdDev:0.000} | {l.P50:0.000} | {l.P75:0.000} | {l.P95:0.000} | {l.P99:0.000} | {l.P999:0.000} | {l.Max:0.000} |");
            }
        }
        sb.AppendLine().AppendLine("Latency is from the intended start, of every request, failed ones too.").AppendLine();
        foreach (var s in run.Scenarios)
        {
            sb.AppendLine(Inv, $"- {s.Name}: {s.Load}; target {s.TargetRps:0.#}/s, achieved {Formats.Achieved(s.AchievedRps, s.FailRps)}, {(s.Valid ? "valid" : "**invalid**: " + s.InvalidReason)}");
            foreach (var (metric, value) in s.Metrics) sb.AppendLine(Inv, $"  - {metric}: {value:0.0}");
            sb.AppendLine(Inv, $"  - service time p50 {s.ServiceTimeMs.P50:0.000} p99 {s.ServiceTimeMs.P99:0.000} ms; scheduler lag p50 {s.SchedulerLagMs.P50:0.000} p99 {s.SchedulerLagMs.P99:0.000} ms");
            if (s.Cpu is { } cpu) sb.AppendLine(Inv, $"  - cpu: {cpu.Describe()}");
            foreach (var h in s.Hints) sb.AppendLine(Inv, $"  - {h.Level}: {h.Text}");
        }
        return sb.ToString();
    }

    public static string Csv(RunReport run)
    {
        var sb = new StringBuilder("name,ok,fail,rps,bytes,p50_ms,p75_ms,p95_ms,p99_ms,p999_ms,max_ms,min_ms,mean_ms,stddev_ms,fail_rps\n");
        foreach (var s in run.Scenarios)
        {
            foreach (var (name, e) in s.Steps.Select(step => ($"{s.Name}/{step.Name}", step)).Prepend((s.Name, (StepReport)s)))
            {
                var l = e.LatencyMs;
                sb.AppendLine(string.Join(",", name, e.Ok, e.Fail, F(e.Rps), e.Bytes, F(l.P50), F(l.P75), F(l.P95), F(l.P99), F(l.P999), F(l.Max), F(l.Min), F(l.Mean), F(l.StdDev), F(e.FailRps)));
            }
        }
        return sb.ToString();

        static string F(double d) => d.ToString("0.###", Inv);
    }
}
