using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HdrHistogram;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>Writes a run's results: console summary, Markdown, HTML (with charts), CSV, .hgrm and report.json.</summary>
public static class Reports
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void WriteAll(IReadOnlyList<ScenarioResult> results, string folder, string title)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "report.json"), Json(results, title).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(folder, "report.md"), Markdown(results, title));
        File.WriteAllText(Path.Combine(folder, "report.html"), Html(results, title));
        File.WriteAllText(Path.Combine(folder, "report.csv"), Csv(results));
        foreach (var r in results)
        {
            using var writer = new StreamWriter(Path.Combine(folder, $"{r.Scenario.Name}.hgrm"));
            // Recorded in microseconds; the distribution is written in milliseconds.
            r.Stats.Iterations.Latency.OutputPercentileDistribution(writer, 5, 1000.0, false);
        }
    }

    private static IEnumerable<(string Name, Measurements M)> Rows(ScenarioResult r)
        => r.Stats.Steps.Select(s => ($"{r.Scenario.Name}/{s.Name}", s)).Prepend((r.Scenario.Name, r.Stats.Iterations));

    private static JsonObject Latency(LatencyView l) => new()
    {
        ["p50"] = Round(l.Percent50), ["p75"] = Round(l.Percent75), ["p95"] = Round(l.Percent95),
        ["p99"] = Round(l.Percent99), ["p999"] = Round(l.Percent999), ["max"] = Round(l.MaxMs),
    };

    private static double Round(double v) => Math.Round(v, 3);

    private static JsonObject Entry(Measurements m, double seconds, IEnumerable<(Threshold T, bool Passed)> thresholds)
    {
        var view = StatsView.From(m, seconds);
        return new JsonObject
        {
            ["name"] = m.Name,
            ["ok"] = m.Ok,
            ["fail"] = m.Fail,
            ["rps"] = Round(view.Ok.Request.RPS),
            ["bytes"] = m.Bytes,
            ["latencyMs"] = Latency(view.Ok.Latency),
            ["serviceTimeMs"] = Latency(LatencyView.From(m.ServiceTime)),
            ["statusCodes"] = new JsonObject(m.StatusCodes.OrderBy(k => k.Key).Select(k => KeyValuePair.Create(k.Key.ToString(Inv), (JsonNode?)k.Value))),
            ["thresholds"] = new JsonArray(thresholds.Select(t => (JsonNode)new JsonObject { ["description"] = t.T.Description, ["passed"] = t.Passed }).ToArray()),
        };
    }

    public static JsonObject Json(IReadOnlyList<ScenarioResult> results, string title)
    {
        var scenarios = new JsonArray();
        foreach (var r in results)
        {
            var scenario = Entry(r.Stats.Iterations, r.DurationSeconds, r.Thresholds.Where(t => t.Threshold.StepName is null));
            scenario["durationSeconds"] = Round(r.DurationSeconds);
            scenario["targetRps"] = Round(r.TargetRate);
            scenario["achievedRps"] = Round(r.AchievedRate);
            scenario["schedulerLagMs"] = Latency(LatencyView.From(r.Stats.SchedulerLag));
            scenario["maxLatencyMsPerSecond"] = new JsonArray(SecondsOf(r).Select(us => (JsonNode)Round(us / 1000.0)).ToArray());
            scenario["valid"] = r.Valid;
            scenario["invalidReason"] = r.InvalidReason;
            var units = new JsonObject();
            foreach (var (unit, perIteration) in r.Scenario.UnitsPerOkIteration) units[unit + "PerSecond"] = Round(r.View.Ok.Request.RPS * perIteration);
            scenario["metrics"] = units;
            scenario["steps"] = new JsonArray(r.Stats.Steps
                .Select(s => (JsonNode)Entry(s, r.DurationSeconds, r.Thresholds.Where(t => t.Threshold.StepName == s.Name)))
                .ToArray());
            scenario["failures"] = new JsonObject(r.Stats.Iterations.FailMessages.OrderByDescending(k => k.Value).Take(10)
                .Select(k => KeyValuePair.Create(k.Key, (JsonNode?)k.Value)));
            scenarios.Add(scenario);
        }
        return new JsonObject
        {
            ["title"] = title,
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
            ["date"] = DateTimeOffset.UtcNow.ToString("O", Inv),
            ["passed"] = results.All(r => r.ThresholdsPassed),
            ["valid"] = results.All(r => r.Valid),
            ["scenarios"] = scenarios,
        };
    }

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
            sb.AppendLine(Inv, $"scenario {r.Scenario.Name}: {r.DurationSeconds:0.0}s, target {r.TargetRate:0.#}/s, achieved {r.AchievedRate:0.#}/s, {(r.Valid ? "valid" : "INVALID: " + r.InvalidReason)}");
            foreach (var (name, m) in Rows(r))
            {
                var v = StatsView.From(m, r.DurationSeconds);
                sb.AppendLine(Inv, $"  {name,-28} ok {m.Ok,9} fail {m.Fail,7} rps {v.Ok.Request.RPS,10:0.0}  p50 {v.Ok.Latency.Percent50,8:0.000} p75 {v.Ok.Latency.Percent75,8:0.000} p95 {v.Ok.Latency.Percent95,8:0.000} p99 {v.Ok.Latency.Percent99,8:0.000} p99.9 {v.Ok.Latency.Percent999,8:0.000} max {v.Ok.Latency.MaxMs,9:0.000} ms");
            }
            foreach (var (unit, per) in r.Scenario.UnitsPerOkIteration) sb.AppendLine(Inv, $"  {unit}/s: {r.View.Ok.Request.RPS * per:0.0}");
            var lag = LatencyView.From(r.Stats.SchedulerLag);
            if (r.Stats.Intended > 0) sb.AppendLine(Inv, $"  scheduler lag p50 {lag.Percent50:0.000} p99 {lag.Percent99:0.000} max {lag.MaxMs:0.000} ms");
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

    public static string Markdown(IReadOnlyList<ScenarioResult> results, string title)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# {title}").AppendLine();
        sb.AppendLine("| scenario / step | ok | fail | rps | p50 ms | p75 ms | p95 ms | p99 ms | p99.9 ms | max ms |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            foreach (var (name, m) in Rows(r))
            {
                var v = StatsView.From(m, r.DurationSeconds);
                var l = v.Ok.Latency;
                sb.AppendLine(Inv, $"| {name} | {m.Ok} | {m.Fail} | {v.Ok.Request.RPS:0.0} | {l.Percent50:0.000} | {l.Percent75:0.000} | {l.Percent95:0.000} | {l.Percent99:0.000} | {l.Percent999:0.000} | {l.MaxMs:0.000} |");
            }
        }
        sb.AppendLine();
        foreach (var r in results)
        {
            sb.AppendLine(Inv, $"- {r.Scenario.Name}: target {r.TargetRate:0.#}/s, achieved {r.AchievedRate:0.#}/s, {(r.Valid ? "valid" : "**invalid**: " + r.InvalidReason)}");
            foreach (var (unit, per) in r.Scenario.UnitsPerOkIteration) sb.AppendLine(Inv, $"  - {unit}/s: {r.View.Ok.Request.RPS * per:0.0}");
            foreach (var (t, passed) in r.Thresholds) sb.AppendLine($"  - threshold {(passed ? "passed" : "**failed**")}: {t.Description}");
        }
        return sb.ToString();
    }

    public static string Csv(IReadOnlyList<ScenarioResult> results)
    {
        var sb = new StringBuilder("name,ok,fail,rps,bytes,p50_ms,p75_ms,p95_ms,p99_ms,p999_ms,max_ms\n");
        foreach (var r in results)
        {
            foreach (var (name, m) in Rows(r))
            {
                var v = StatsView.From(m, r.DurationSeconds);
                var l = v.Ok.Latency;
                sb.AppendLine(string.Join(",", name, m.Ok, m.Fail, F(v.Ok.Request.RPS), m.Bytes, F(l.Percent50), F(l.Percent75), F(l.Percent95), F(l.Percent99), F(l.Percent999), F(l.MaxMs)));
            }
        }
        return sb.ToString();

        static string F(double d) => d.ToString("0.###", Inv);
    }

    /// <summary>A self-contained page: two inline SVG charts per scenario, no scripts, no external assets.</summary>
    public static string Html(IReadOnlyList<ScenarioResult> results, string title)
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>").Append(WebUtility.HtmlEncode(title)).Append("</title>")
          .Append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}svg{background:#fafafa;border:1px solid #ddd;margin:8px 16px 8px 0}</style></head><body>");
        sb.Append("<h1>").Append(WebUtility.HtmlEncode(title)).Append("</h1>");
        sb.Append("<pre>").Append(WebUtility.HtmlEncode(Console(results))).Append("</pre>");
        foreach (var r in results)
        {
            sb.Append("<h2>").Append(WebUtility.HtmlEncode(r.Scenario.Name)).Append("</h2>");
            sb.Append(PercentileChart(r.Stats.Iterations.Latency));
            sb.Append(ThroughputChart(r.Stats.Iterations, r.DurationSeconds));
        }
        sb.Append("</body></html>");
        return sb.ToString();
    }

    private static readonly double[] ChartPercentiles = [0, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

    /// <summary>Latency by percentile, x spaced as in HdrHistogram plots: 1/(1-p) on a log scale.</summary>
    internal static string PercentileChart(HistogramBase latency)
    {
        const int w = 520, h = 260, left = 60, bottom = 30;
        if (latency.TotalCount == 0) return "<p>no latency recorded</p>";
        var points = ChartPercentiles.Select(p => (p, ms: latency.GetValueAtPercentile(p) / 1000.0)).ToList();
        var maxMs = Math.Max(points.Max(x => x.ms), 0.001);
        double X(double p) => left + (w - left - 10) * Math.Log10(1 / Math.Max(1e-5, 1 - p / 100.0)) / 5.0;
        double Y(double ms) => h - bottom - (h - bottom - 10) * ms / maxMs;
        var sb = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\"><text x=\"{left}\" y=\"14\" font-size=\"12\">latency by percentile (ms)</text>");
        sb.Append("<polyline fill=\"none\" stroke=\"#c33\" stroke-width=\"2\" points=\"")
          .Append(string.Join(" ", points.Select(x => $"{X(x.p).ToString("0.0", Inv)},{Y(x.ms).ToString("0.0", Inv)}"))).Append("\"/>");
        foreach (var (p, ms) in points)
        {
            sb.Append(Inv, $"<text x=\"{X(p):0.0}\" y=\"{h - 12}\" font-size=\"10\" text-anchor=\"middle\">{p}</text>");
            sb.Append(Inv, $"<text x=\"{X(p) + 2:0.0}\" y=\"{Y(ms) - 4:0.0}\" font-size=\"9\">{ms:0.##}</text>");
        }
        return sb.Append("</svg>").ToString();
    }

    internal static string ThroughputChart(Measurements m, double seconds)
    {
        const int w = 520, h = 260, left = 60, bottom = 30;
        var n = Math.Max(1, (int)Math.Ceiling(seconds));
        var ok = m.OkPerSecond.Take(n).ToArray();
        var fail = m.FailPerSecond.Take(n).ToArray();
        var max = Math.Max(1, ok.Zip(fail, (a, b) => a + b).DefaultIfEmpty(1).Max());
        double X(int s) => left + (w - left - 10) * s / (double)Math.Max(1, n - 1);
        double Y(long v) => h - bottom - (h - bottom - 20) * v / (double)max;
        var sb = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\"><text x=\"{left}\" y=\"14\" font-size=\"12\">throughput per second (ok green, fail red), max {max}/s</text>");
        sb.Append("<polyline fill=\"none\" stroke=\"#393\" stroke-width=\"2\" points=\"").Append(string.Join(" ", ok.Select((v, i) => $"{X(i).ToString("0.0", Inv)},{Y(v).ToString("0.0", Inv)}"))).Append("\"/>");
        sb.Append("<polyline fill=\"none\" stroke=\"#c33\" stroke-width=\"1\" points=\"").Append(string.Join(" ", fail.Select((v, i) => $"{X(i).ToString("0.0", Inv)},{Y(v).ToString("0.0", Inv)}"))).Append("\"/>");
        sb.Append(Inv, $"<text x=\"{left}\" y=\"{h - 10}\" font-size=\"10\">0 s</text><text x=\"{w - 40}\" y=\"{h - 10}\" font-size=\"10\">{n} s</text>");
        return sb.Append("</svg>").ToString();
    }
}
