using System.Net;
using System.Text;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>
/// report.html: one self-contained page drawn from a <see cref="RunReport"/>: the verdict and every
/// threshold at the top, the run's parameters, a table of every scenario and step, then per scenario its
/// hints, charts over time and by percentile, and its status codes and failures. Generic over scenarios
/// and steps: a new scenario gets all of it.
/// </summary>
public static class HtmlReport
{
    public static string Render(RunReport run)
    {
        var body = new StringBuilder();
        body.Append("<h1>").Append(E(run.Title)).Append("</h1>");
        body.Append("<p class=\"sub\">").Append(E(run.Date.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture)))
            .Append(" · generator ").Append(E(run.Generator)).Append(run.Commit is null ? "" : $" (commit {E(Short(run.Commit))})")
            .Append(" · ").Append(E(run.Machine)).Append("</p>");
        body.Append(Verdict(run));
        body.Append(Warnings(run));
        body.Append(ThresholdTable(run));
        body.Append(Parameters(run));
        body.Append("<h2>Summary</h2><div class=\"wide\">").Append(SummaryTable(run)).Append("</div>");
        foreach (var s in run.Scenarios) body.Append(Scenario(s));
        body.Append(Reading());
        return Page.Render(run.Title, body.ToString());
    }

    /// <summary>The banner: PASSED (amber, not green, when requests failed), or FAILED and/or INVALID with what failed.</summary>
    public static string Verdict(RunReport run)
    {
        var thresholds = run.Scenarios.SelectMany(s => s.AllThresholds).ToList();
        var failed = thresholds.Count(t => !t.Outcome.Passed);
        var parts = new List<string>();
        if (failed > 0) parts.Add($"FAILED: {failed} of {thresholds.Count} thresholds failed");
        if (!run.Valid) parts.Add("INVALID: the generator fell behind (" + string.Join("; ", run.Scenarios.Where(s => !s.Valid).Select(s => $"{s.Name}: {s.InvalidReason}")) + ")");
        var ok = parts.Count == 0;
        if (ok) parts.Add(thresholds.Count == 0 ? "PASSED: no thresholds were set, and the run is valid" : $"PASSED: all {thresholds.Count} thresholds passed, and the run is valid");
        var failedRequests = run.FailedRequests();
        if (failedRequests is not null) parts.Add(ok ? $"but {failedRequests}: see the failures below" : failedRequests);
        var css = !ok ? "fail" : failedRequests is null ? "pass" : "warn";
        return $"<div id=\"verdict\" class=\"verdict {css}\">{string.Join("<br>", parts.Select(E))}</div>";
    }

    private static string Warnings(RunReport run)
    {
        var items = run.Warnings.Select(w => (Level: "warning", Text: w))
            .Concat(run.Scenarios.SelectMany(s => s.Hints.Where(h => h.Level == "warning").Select(h => (h.Level, Text: $"{s.Name}: {h.Text}"))))
            .ToList();
        if (items.Count == 0) return "";
        return "<ul class=\"hints top\">" + string.Concat(items.Select(i => $"<li class=\"{i.Level}\">{E(i.Text)}</li>")) + "</ul>";
    }

    private static string ThresholdTable(RunReport run)
    {
        var rows = run.Scenarios.SelectMany(s => s.AllThresholds).ToList();
        if (rows.Count == 0) return "";
        var sb = new StringBuilder("<table class=\"thresholds\"><tr><th>scenario / step</th><th>threshold</th><th>result</th></tr>");
        foreach (var t in rows)
        {
            sb.Append("<tr class=\"").Append(t.Outcome.Passed ? "pass" : "fail").Append("\"><td>").Append(E(t.Step is null ? t.Scenario : $"{t.Scenario} / {t.Step}"))
              .Append("</td><td>").Append(E(t.Outcome.Description)).Append("</td><td class=\"result\">").Append(t.Outcome.Passed ? "✔ passed" : "✘ failed").Append("</td></tr>");
        }
        return sb.Append("</table>").ToString();
    }

    private static string Parameters(RunReport run)
    {
        var sb = new StringBuilder("<h2>Parameters</h2><table class=\"parameters\">");
        foreach (var (name, value) in run.Parameters) sb.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");
        foreach (var s in run.Scenarios) sb.Append("<tr><th>load: ").Append(E(s.Name)).Append("</th><td>").Append(E(s.Load)).Append("</td></tr>");
        sb.Append("<tr><th>generator</th><td>").Append(E(run.Generator)).Append(run.Commit is null ? "" : " commit " + E(run.Commit)).Append("</td></tr>");
        sb.Append("<tr><th>machine</th><td>").Append(E(run.Machine)).Append("</td></tr>");
        return sb.Append("</table>").ToString();
    }

    private static readonly string[] LatencyColumns = ["min", "mean", "stddev", "p50", "p75", "p95", "p99", "p99.9", "max"];

    private static IEnumerable<string> LatencyCells(LatencySummary l)
        => new[] { l.Min, l.Mean, l.StdDev, l.P50, l.P75, l.P95, l.P99, l.P999, l.Max }.Select(Formats.Number);

    public static string SummaryTable(RunReport run)
    {
        var sb = new StringBuilder("<table class=\"summary\"><tr><th rowspan=\"2\">scenario / step</th><th rowspan=\"2\">ok</th><th rowspan=\"2\">fail</th><th rowspan=\"2\">fail %</th><th rowspan=\"2\">ok/s</th><th rowspan=\"2\">failed/s</th><th rowspan=\"2\">bytes</th>");
        sb.Append("<th colspan=\"").Append(LatencyColumns.Length).Append("\" class=\"group\">latency from the intended start, of every request, failed ones too (ms)</th></tr><tr>");
        foreach (var c in LatencyColumns) sb.Append("<th>").Append(c).Append("</th>");
        sb.Append("</tr>");
        foreach (var s in run.Scenarios)
        {
            Row(s, s.Name, "scenario");
            foreach (var step in s.Steps) Row(step, $"{s.Name} / {step.Name}", "step");
        }
        return sb.Append("</table>").ToString();

        void Row(StepReport e, string name, string kind)
        {
            sb.Append("<tr class=\"").Append(kind).Append("\"><td>").Append(E(name)).Append("</td><td>").Append(Formats.Count(e.Ok)).Append("</td><td>").Append(Formats.Count(e.Fail))
              .Append("</td><td>").Append(Formats.Number(e.FailPercent)).Append("</td><td>").Append(Formats.Number(e.Rps)).Append("</td><td>").Append(Formats.Number(e.FailRps)).Append("</td><td>").Append(Formats.Bytes(e.Bytes)).Append("</td>");
            foreach (var cell in LatencyCells(e.LatencyMs)) sb.Append("<td>").Append(cell).Append("</td>");
            sb.Append("</tr>");
        }
    }

    private static string Scenario(ScenarioReport s)
    {
        var sb = new StringBuilder();
        sb.Append("<section class=\"scenario\" data-scenario=\"").Append(E(s.Name)).Append("\"><h2>Scenario ").Append(E(s.Name)).Append("</h2>");
        sb.Append("<p class=\"facts\">").Append(E(s.Load)).Append(" · ").Append(Formats.Number(s.DurationSeconds)).Append(" s");
        if (s.OpenModel) sb.Append(" · target ").Append(Formats.Number(s.TargetRps)).Append("/s");
        sb.Append(" · achieved ").Append(E(Formats.Achieved(s.AchievedRps, s.FailRps)));
        foreach (var (name, value) in s.Metrics) sb.Append(" · ").Append(E(name)).Append(' ').Append(Formats.Number(value));
        if (s.Cpu is { } cpu) sb.Append(" · ").Append(E(cpu.Describe()));
        sb.Append(" · ").Append(s.Valid ? "valid" : "<b>invalid</b>: " + E(s.InvalidReason ?? "")).Append("</p>");
        if (s.Hints.Count > 0) sb.Append("<ul class=\"hints\">").Append(string.Concat(s.Hints.Select(h => $"<li class=\"{h.Level}\">{E(h.Text)}</li>"))).Append("</ul>");

        sb.Append("<div class=\"charts\">");
        foreach (var chart in ScenarioCharts(s)) sb.Append("<figure>").Append(chart).Append("</figure>");
        sb.Append("</div>");

        sb.Append("<h3>Latency beside service time and scheduler lag (ms)</h3><table class=\"latency\"><tr><th></th>");
        foreach (var c in LatencyColumns) sb.Append("<th>").Append(c).Append("</th>");
        sb.Append("</tr>");
        LatencyRow("latency (from the intended start)", s.LatencyMs);
        LatencyRow("service time (from getting a connection)", s.ServiceTimeMs);
        if (s.OpenModel) LatencyRow("scheduler lag (the generator's own delay)", s.SchedulerLagMs);
        foreach (var step in s.Steps)
        {
            LatencyRow($"step {step.Name}: latency", step.LatencyMs);
            LatencyRow($"step {step.Name}: service time", step.ServiceTimeMs);
        }
        sb.Append("</table>");

        sb.Append("<h3>Status codes</h3><table class=\"codes\"><tr><th>scenario / step</th><th>status</th><th>count</th></tr>");
        foreach (var e in s.Steps.Prepend(s))
        {
            foreach (var (code, count) in e.StatusCodes)
            {
                sb.Append("<tr><td>").Append(E(e == s ? s.Name : $"{s.Name} / {e.Name}")).Append("</td><td>").Append(code == "0" ? "0 (no answer)" : E(code)).Append("</td><td>").Append(Formats.Count(count)).Append("</td></tr>");
            }
        }
        sb.Append("</table>");
        if (s.Failures.Count > 0)
        {
            sb.Append("<h3>Failures</h3><table class=\"failures\"><tr><th>message</th><th>count</th></tr>");
            foreach (var (message, count) in s.Failures) sb.Append("<tr><td>").Append(E(message)).Append("</td><td>").Append(Formats.Count(count)).Append("</td></tr>");
            sb.Append("</table>");
        }
        return sb.Append("</section>").ToString();

        void LatencyRow(string name, LatencySummary l)
        {
            sb.Append("<tr><td>").Append(E(name)).Append("</td>");
            foreach (var cell in LatencyCells(l)) sb.Append("<td>").Append(cell).Append("</td>");
            sb.Append("</tr>");
        }
    }

    /// <summary>The charts of one scenario, each an inline SVG.</summary>
    public static IEnumerable<string> ScenarioCharts(ScenarioReport s)
    {
        var n = Hints.Charted(s);
        var time = new Axis(n < s.PerSecond.Ok.Count ? $"time into the run (s; the partial last second left out)" : "time into the run (s)", 0, Math.Max(n, 1));

        var rate = new List<Series>
        {
            new("completed OK", Charts.Palette[2], PerSecond(s.PerSecond.Ok.Select(v => (double)v), n)),
            new("failed", Charts.Red, PerSecond(s.PerSecond.Fail.Select(v => (double)v), n)),
        };
        // Drawn last, dashed, so it shows on top of an achieved rate that matches it.
        if (s.PerSecond.Intended is { } intended) rate.Add(new Series("target", "#444", PerSecond(intended.Select(v => (double)v), n), Dashed: true));
        yield return Charts.Draw("rate", "Achieved vs target rate", time, "iterations per second", rate);

        var l = s.PerSecond.LatencyMs;
        yield return Charts.Draw("latency-per-second", "Latency percentiles per second (by the second an iteration was due)", time, "latency (ms)",
        [
            new Series("p50", Charts.Palette[0], PerSecond(l.P50, n)),
            new Series("p95", Charts.Palette[1], PerSecond(l.P95, n)),
            new Series("p99", Charts.Palette[3], PerSecond(l.P99, n)),
            new Series("p99.9", Charts.Palette[4], PerSecond(l.P999, n)),
        ]);
        yield return Charts.Draw("slowest-per-second", "Slowest iteration per second (by the second it was due)", time, "latency (ms)",
            [new Series("max", Charts.Red, PerSecond(l.Max, n))]);
        yield return Charts.Draw("errors-per-second", "Errors per second (by the second they completed)", time, "failed iterations per second",
            [new Series("failed", Charts.Red, PerSecond(s.PerSecond.Fail.Select(v => (double)v), n), Bars: true)], whenAllZero: "no failures");

        // The curves are of every iteration, failed ones too: the axis reaches as far as they do.
        var decades = Charts.PercentileDecades(s.Ok + s.Fail);
        // Latency last, on top: where service time equals it, latency is the line to see.
        var curves = new List<Series>();
        if (s.OpenModel) curves.Add(new Series("scheduler lag", Charts.Palette[7], Curve(s.SchedulerLagDistributionMs, decades), Dashed: true));
        curves.Add(new Series("service time", Charts.Palette[2], Curve(s.ServiceTimeDistributionMs, decades)));
        if (s.Steps.Count > 1)
        {
            curves.AddRange(s.Steps.Select((step, i) => new Series($"step {step.Name}", Charts.Palette[(3 + i) % 7], Curve(step.LatencyDistributionMs, decades))));
        }
        curves.Add(new Series("latency", Charts.Palette[0], Curve(s.LatencyDistributionMs, decades)));
        yield return Charts.Draw("latency-by-percentile", "Latency by percentile (log scale, as HdrHistogram plots it)",
            new Axis("percentile (each tick ten times rarer than the last)", 0, decades, AxisKind.Percentile), "latency (ms)", curves);
    }

    /// <summary>The first <paramref name="n"/> seconds as points in the middle of each second; a second without a value is a gap.</summary>
    public static IReadOnlyList<(double X, double Y)> PerSecond(IEnumerable<double?> values, int n)
        => values.Take(n).Select((v, i) => (i + 0.5, v ?? double.NaN)).ToList();

    public static IReadOnlyList<(double X, double Y)> PerSecond(IEnumerable<double> values, int n)
        => values.Take(n).Select((v, i) => (i + 0.5, v)).ToList();

    public static IReadOnlyList<(double X, double Y)> Curve(IEnumerable<PercentilePoint> points, double decades)
        => points.Select(p => (Charts.PercentileX(p.Percentile, decades), p.Ms)).ToList();

    private static string Reading() => """
        <h2>Reading this report</h2>
        <ul class="reading">
        <li><b>Latency</b> runs from each iteration's intended start (open model), so time a request waited because the system stalled is counted; <b>service time</b> runs from when the request had one of the generator's connections (a step that sends no HTTP request: from its start) to its answer, so the server's own queue is in it. Their difference is the generator's: how late it started the iteration and how long the request waited for a free connection.</li>
        <li><b>OK/s, failed/s and the achieved rate</b> count what completed while the load ran, over its duration: a backlog the node answered only in the drain after the load (up to 15 s) is in the totals, not in the rates, so a node that did not keep up shows a shortfall. An iteration still unanswered when the drain ends is a failure ("no answer within the drain"): every iteration started is counted once.</li>
        <li><b>Scheduler lag</b> is how late the generator itself started iterations. A run whose p99 lag exceeds 50 ms, or that started fewer than 95% of the intended iterations, is <b>invalid</b>: the generator was the bottleneck.</li>
        <li>Per-second charts count completions by the second they completed in, and latency by the second the iteration was due in. The partial last second and the drain after the load are left out of them (not out of the totals).</li>
        <li>Latency by percentile spaces 90%, 99%, 99.9%... evenly, as HdrHistogram's plots do: the tail gets the room it deserves. The same distribution is in the .hgrm file next to this report.</li>
        <li>Every figure here comes from report.json beside this file; <code>compare A B</code> sets two of them side by side.</li>
        </ul>
        """;

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;
    private static string E(string s) => WebUtility.HtmlEncode(s);
}

/// <summary>The page every HTML output shares: one inline style sheet, no script, nothing fetched.</summary>
public static class Page
{
    public static string Render(string title, string body) => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{WebUtility.HtmlEncode(title)}}</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;margin:24px auto;max-width:1320px;padding:0 16px;color:#222;font-size:14px;line-height:1.4}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
        .sub{color:#666;margin:0 0 12px}
        .verdict{font-size:18px;font-weight:600;padding:12px 16px;border-radius:6px;margin:12px 0;color:#fff}
        .verdict.pass{background:#1e7b34}.verdict.fail{background:#b42318}.verdict.warn{background:#b54708}
        table{border-collapse:collapse;margin:6px 0 12px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}th.group{text-align:center}
        .wide{overflow-x:auto}
        th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
        table.parameters th{text-align:left;width:180px}table.parameters td{text-align:left;white-space:normal}
        table.failures td:first-child{white-space:normal;text-align:left}table.thresholds td,table.thresholds th{text-align:left}
        td.text{text-align:left;white-space:normal}
        tr.pass td.result,.better{color:#1e7b34;font-weight:600}tr.fail td.result,.worse{color:#b42318;font-weight:600}tr.warn td.result{color:#b54708;font-weight:600}
        tr.step td:first-child{padding-left:24px;color:#555}.noise{color:#666}
        ul.hints{padding-left:0;list-style:none}ul.hints li{padding:6px 10px;margin:4px 0;border-radius:4px}
        li.warning{background:#fff4e5;border-left:4px solid #f79009}li.info{background:#eef4fb;border-left:4px solid #1f77b4}
        .facts{color:#444}
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
        figure{margin:0;border:1px solid #e3e3e3;border-radius:6px;padding:6px;background:#fff}
        svg.chart{width:100%;height:auto;display:block;font-size:11px}
        svg .title{font-size:13px;font-weight:600}svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .tick{fill:#555}svg .label{fill:#333}
        svg .legend{fill:#333}svg .empty{fill:#999;font-size:13px}
        code,pre{background:#f5f5f5;padding:1px 4px;border-radius:3px}pre{padding:8px;overflow:auto}
        </style></head><body>
        {{body}}
        </body></html>
        """;
}
