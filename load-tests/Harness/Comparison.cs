using System.Globalization;
using System.Net;
using System.Text;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>Whether run B's figure differs from run A's by more than the runs' own noise, and which way.</summary>
public enum Verdict { Same, WithinNoise, Better, Worse, NoEstimate }

/// <summary>One figure of one scenario or step in both runs.</summary>
/// <param name="Ratio">B / A; null when A is 0 and B is not.</param>
/// <param name="Noise">The difference beyond which B differs from A (two combined standard errors); null without per-second series.</param>
public sealed record ComparisonRow(string Scenario, string? Step, string Figure, string Unit, double A, double B, double? Ratio, double? Noise, Verdict Verdict);

/// <summary>
/// Before/after: the figures of two runs side by side, each with B/A and whether the difference exceeds
/// the noise both runs show in their own per-second series. The noise of a figure in one run is the
/// standard deviation of that figure's per-second values over the run's full seconds divided by the
/// square root of their number (its standard error); B differs from A when the difference exceeds
/// twice the two standard errors combined, sqrt(seA² + seB²), and for latency also 1% of the larger
/// value (the per-second histograms' resolution). Seconds are taken as independent, which a stall lasting
/// several seconds is not: read "within noise" as "no evidence of a difference", not as "equal". Drift
/// between the two runs is not in this noise.
/// </summary>
public sealed class Comparison
{
    private const double Sigmas = 2;
    private const double LatencyResolution = 0.01;

    private Comparison(RunReport a, RunReport b, string aName, string bName, string? sourceA, string? sourceB, List<ComparisonRow> rows, List<string> notes)
    {
        A = a; B = b; AName = aName; BName = bName; SourceA = sourceA; SourceB = sourceB; Rows = rows; Notes = notes;
    }

    public RunReport A { get; }
    public RunReport B { get; }
    public string AName { get; }
    public string BName { get; }
    /// <summary>Where each run was read from, as the user named it.</summary>
    public string? SourceA { get; }
    public string? SourceB { get; }
    public IReadOnlyList<ComparisonRow> Rows { get; }
    /// <summary>What a reader must know: scenarios in one run only, runs that are invalid, parameters that differ.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>A figure: how to read it from an entry, and its per-second values over the first n seconds (null: none kept).</summary>
    private sealed record Figure(string Name, string Unit, bool HigherIsBetter, bool Latency, Func<StepReport, double> Value, Func<StepReport, int, IReadOnlyList<double>?> PerSecond);

    private static readonly Figure[] Figures =
    [
        new("ok/s", "1/s", true, false, e => e.Rps, (e, n) => e.PerSecond.Ok.Count == 0 ? null : e.PerSecond.Ok.Take(n).Select(v => (double)v).ToList()),
        new("fail %", "%", false, false, e => e.FailPercent, (e, n) => e.PerSecond.Ok.Count == 0 ? null : e.PerSecond.Ok.Zip(e.PerSecond.Fail).Take(n)
            .Where(x => x.First + x.Second > 0).Select(x => 100.0 * x.Second / (x.First + x.Second)).ToList()),
        Latency("mean", e => e.LatencyMs.Mean, e => e.PerSecond.LatencyMs.Mean),
        Latency("p50", e => e.LatencyMs.P50, e => e.PerSecond.LatencyMs.P50),
        Latency("p75", e => e.LatencyMs.P75, e => e.PerSecond.LatencyMs.P75),
        Latency("p95", e => e.LatencyMs.P95, e => e.PerSecond.LatencyMs.P95),
        Latency("p99", e => e.LatencyMs.P99, e => e.PerSecond.LatencyMs.P99),
        Latency("p99.9", e => e.LatencyMs.P999, e => e.PerSecond.LatencyMs.P999),
        // The maximum is one request: no per-second series says how far it could have moved.
        new("max", "ms", false, true, e => e.LatencyMs.Max, (_, _) => null),
    ];

    private static Figure Latency(string name, Func<StepReport, double> value, Func<StepReport, List<double?>> perSecond)
        => new(name, "ms", false, true, value, (e, n) => perSecond(e) is { Count: > 0 } s ? s.Take(n).Where(v => v is not null).Select(v => v!.Value).ToList() : null);

    public static Comparison Of(RunReport a, RunReport b, string aName = "A", string bName = "B", string? sourceA = null, string? sourceB = null)
    {
        var rows = new List<ComparisonRow>();
        var notes = new List<string>();
        foreach (var sa in a.Scenarios)
        {
            if (b.Scenarios.FirstOrDefault(s => s.Name == sa.Name) is not { } sb)
            {
                notes.Add($"scenario {sa.Name} is only in {aName}");
                continue;
            }
            rows.AddRange(Compare(sa, sb, sa, sb, null));
            foreach (var (unit, perIteration) in sa.UnitsPerIteration)
            {
                var key = unit + "PerSecond";
                if (!sa.Metrics.TryGetValue(key, out var va) || !sb.Metrics.TryGetValue(key, out var vb)) continue;
                var unitsB = sb.UnitsPerIteration.GetValueOrDefault(unit, perIteration);
                rows.Add(Row(sa.Name, null, $"{unit}/s", "1/s", true, false, va, vb,
                    OkSeries(sa, perIteration), OkSeries(sb, unitsB)));
            }
            foreach (var unit in sa.PerSecond.Units.Keys.Where(sb.PerSecond.Units.ContainsKey))
            {
                var key = unit + "PerSecond";
                if (!sa.Metrics.TryGetValue(key, out var va) || !sb.Metrics.TryGetValue(key, out var vb)) continue;
                rows.Add(Row(sa.Name, null, $"{unit}/s", "1/s", !unit.StartsWith("rejected", StringComparison.Ordinal), false, va, vb,
                    UnitSeries(sa, unit), UnitSeries(sb, unit)));
            }
            foreach (var stepA in sa.Steps)
            {
                if (sb.Steps.FirstOrDefault(s => s.Name == stepA.Name) is { } stepB) rows.AddRange(Compare(sa, sb, stepA, stepB, stepA.Name));
                else notes.Add($"step {sa.Name} / {stepA.Name} is only in {aName}");
            }
            foreach (var stepB in sb.Steps.Where(s => sa.Steps.All(x => x.Name != s.Name))) notes.Add($"step {sa.Name} / {stepB.Name} is only in {bName}");
            if (sa.OpenModel && sb.OpenModel && Math.Abs(sa.TargetRps - sb.TargetRps) > 0.01 * Math.Max(sa.TargetRps, sb.TargetRps))
            {
                notes.Add($"{sa.Name} ran at different target rates ({Formats.Number(sa.TargetRps)}/s in {aName}, {Formats.Number(sb.TargetRps)}/s in {bName}): latency at different rates differs for that reason alone");
            }
            if (sa.OpenModel != sb.OpenModel) notes.Add($"{sa.Name} ran as an {(sa.OpenModel ? "open" : "closed")} model in {aName} and as an {(sb.OpenModel ? "open" : "closed")} model in {bName}: their latencies mean different things");
            foreach (var (run, name) in new[] { (sa, aName), (sb, bName) })
            {
                if (run.FailPercent >= 1) notes.Add($"{sa.Name} failed {Formats.Number(run.FailPercent)}% of its requests in {name}: its figures describe failures as much as the node, so the two runs do not compare");
            }
            if (!sa.Valid) notes.Add($"{sa.Name} is invalid in {aName} ({sa.InvalidReason}): its figures are the generator's");
            if (!sb.Valid) notes.Add($"{sa.Name} is invalid in {bName} ({sb.InvalidReason}): its figures are the generator's");
        }
        foreach (var sb in b.Scenarios.Where(s => a.Scenarios.All(x => x.Name != s.Name))) notes.Add($"scenario {sb.Name} is only in {bName}");
        foreach (var key in a.Parameters.Keys.Union(b.Parameters.Keys).Where(k => k != "out"))
        {
            var va = a.Parameters.GetValueOrDefault(key, "(none)");
            var vb = b.Parameters.GetValueOrDefault(key, "(none)");
            if (va != vb) notes.Add($"parameter {key} differs: {va} in {aName}, {vb} in {bName}");
        }
        if (a.Machine != b.Machine) notes.Add($"the machines differ: {a.Machine} in {aName}, {b.Machine} in {bName}");
        return new Comparison(a, b, aName, bName, sourceA, sourceB, rows, notes);
    }

    private static IEnumerable<ComparisonRow> Compare(ScenarioReport sa, ScenarioReport sb, StepReport ea, StepReport eb, string? step)
    {
        var rows = Figures.Select(f => Row(sa.Name, step, f.Name, f.Unit, f.HigherIsBetter, f.Latency, f.Value(ea), f.Value(eb),
            f.PerSecond(ea, Hints.Charted(sa)), f.PerSecond(eb, Hints.Charted(sb)))).ToList();
        if (ea.Fail + eb.Fail > 0)
        {
            // Beside ok/s, so a rate that held up because the node refused faster is not read as throughput.
            rows.Insert(1, Row(sa.Name, step, "failed/s", "1/s", false, false, FailRate(ea, sa), FailRate(eb, sb),
                FailSeries(ea, Hints.Charted(sa)), FailSeries(eb, Hints.Charted(sb))));
        }
        return rows;
    }

    /// <summary>The failed requests per second; a report.json written before failRps was kept has it from the count.</summary>
    private static double FailRate(StepReport e, ScenarioReport s)
        => e.FailRps > 0 || e.Fail == 0 || s.DurationSeconds <= 0 ? e.FailRps : StepReport.Round(e.Fail / s.DurationSeconds);

    private static List<double>? FailSeries(StepReport e, int n)
        => e.PerSecond.Fail.Count == 0 ? null : e.PerSecond.Fail.Take(n).Select(v => (double)v).ToList();

    private static List<double>? OkSeries(ScenarioReport s, double units)
        => s.PerSecond.Ok.Count == 0 ? null : s.PerSecond.Ok.Take(Hints.Charted(s)).Select(v => v * units).ToList();

    private static List<double> UnitSeries(ScenarioReport s, string unit)
        => s.PerSecond.Units[unit].Take(Hints.Charted(s)).Select(v => (double)v).ToList();

    internal static ComparisonRow Row(string scenario, string? step, string figure, string unit, bool higherIsBetter, bool latency,
        double a, double b, IReadOnlyList<double>? seriesA, IReadOnlyList<double>? seriesB)
    {
        double? ratio = a != 0 ? b / a : b == 0 ? 1 : null;
        var seA = StandardError(seriesA);
        var seB = StandardError(seriesB);
        double? noise = seA is null || seB is null ? null : Sigmas * Math.Sqrt(seA.Value * seA.Value + seB.Value * seB.Value);
        if (noise is not null && latency) noise = Math.Max(noise.Value, LatencyResolution * Math.Max(Math.Abs(a), Math.Abs(b)));
        var difference = b - a;
        var verdict = difference == 0 ? Verdict.Same
            : noise is null ? Verdict.NoEstimate
            : Math.Abs(difference) <= noise ? Verdict.WithinNoise
            : (difference > 0) == higherIsBetter ? Verdict.Better : Verdict.Worse;
        return new ComparisonRow(scenario, step, figure, unit, a, b, ratio, noise, verdict);
    }

    /// <summary>The standard error of a per-second series' mean: its sample standard deviation over √n; null under two values.</summary>
    public static double? StandardError(IReadOnlyList<double>? series)
    {
        if (series is null || series.Count < 2) return null;
        var mean = series.Average();
        var variance = series.Sum(v => (v - mean) * (v - mean)) / (series.Count - 1);
        return Math.Sqrt(variance / series.Count);
    }

    /// <summary>Writes compare.md and compare.html into <paramref name="folder"/>.</summary>
    public void WriteAll(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "compare.md"), Markdown());
        File.WriteAllText(Path.Combine(folder, "compare.html"), Html());
    }

    private static string VerdictText(Verdict v) => v switch
    {
        Verdict.Same => "same",
        Verdict.WithinNoise => "within noise",
        Verdict.Better => "better",
        Verdict.Worse => "worse",
        _ => "no estimate",
    };

    private static string RatioText(double? ratio) => ratio is { } r ? r.ToString("0.000", CultureInfo.InvariantCulture) + "×" : "n/a";
    private static string Signed(double v) => (v > 0 ? "+" : "") + Formats.Number(v);

    public string Headline()
    {
        int Count(Verdict v) => Rows.Count(r => r.Verdict == v);
        return $"{BName} against {AName}: {Count(Verdict.Better)} better and {Count(Verdict.Worse)} worse beyond the noise; {Count(Verdict.WithinNoise) + Count(Verdict.Same)} within it or the same; {Count(Verdict.NoEstimate)} without an estimate";
    }

    private IEnumerable<IGrouping<(string Scenario, string? Step), ComparisonRow>> Groups() => Rows.GroupBy(r => (r.Scenario, r.Step));

    private static string Described(RunReport r, string name, string? source)
        => string.Create(CultureInfo.InvariantCulture, $"{name}: {(source is null ? "" : source + ", ")}{r.Title}, {r.Date:yyyy-MM-dd HH:mm:ss} UTC, generator {r.Generator}{(r.Commit is null ? "" : $" (commit {r.Commit[..Math.Min(12, r.Commit.Length)]})")}");

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {BName} against {AName}").AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {Described(A, AName, SourceA)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {Described(B, BName, SourceB)}").AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"**{Headline()}.**").AppendLine();
        foreach (var note in Notes) sb.AppendLine(CultureInfo.InvariantCulture, $"- note: {note}");
        if (Notes.Count > 0) sb.AppendLine();
        foreach (var group in Groups())
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"## {(group.Key.Step is null ? group.Key.Scenario : $"{group.Key.Scenario} / {group.Key.Step}")}").AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"| figure | {AName} | {BName} | {BName}/{AName} | difference | noise (2σ) | verdict |");
            sb.AppendLine("|---|---:|---:|---:|---:|---:|---|");
            foreach (var r in group)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Figure} ({r.Unit}) | {Formats.Number(r.A)} | {Formats.Number(r.B)} | {RatioText(r.Ratio)} | {Signed(r.B - r.A)} | {(r.Noise is { } n ? "±" + Formats.Number(n) : "—")} | {(r.Verdict is Verdict.Better or Verdict.Worse ? $"**{VerdictText(r.Verdict)}**" : VerdictText(r.Verdict))} |");
            }
            sb.AppendLine();
        }
        sb.AppendLine("Noise: a figure's standard deviation over its run's full seconds, divided by the square root of their number (its standard error), combined from both runs as sqrt(seA² + seB²) and doubled; for latency at least 1% of the larger value. A difference within it is no evidence of a change; the max is a single request and has no estimate. Drift between the runs (another load on the machine, a warmer node) is not in the noise: alternate A and B and compare each pair.");
        return sb.ToString();
    }

    public string Html()
    {
        var title = $"{BName} against {AName}";
        var body = new StringBuilder();
        body.Append("<h1>").Append(E(title)).Append("</h1><ul class=\"runs\">");
        body.Append("<li>").Append(E(Described(A, AName, SourceA))).Append("</li><li>").Append(E(Described(B, BName, SourceB))).Append("</li></ul>");
        var worse = Rows.Any(r => r.Verdict == Verdict.Worse);
        body.Append("<div id=\"verdict\" class=\"verdict ").Append(worse ? "fail" : "pass").Append("\">").Append(E(Headline())).Append("</div>");
        if (Notes.Count > 0) body.Append("<ul class=\"hints top\">").Append(string.Concat(Notes.Select(n => $"<li class=\"warning\">{E(n)}</li>"))).Append("</ul>");

        foreach (var group in Groups())
        {
            body.Append("<h2>").Append(E(group.Key.Step is null ? $"Scenario {group.Key.Scenario}" : $"{group.Key.Scenario} / {group.Key.Step}")).Append("</h2>");
            body.Append("<table class=\"compare\"><tr><th>figure</th><th>").Append(E(AName)).Append("</th><th>").Append(E(BName)).Append("</th><th>")
                .Append(E($"{BName}/{AName}")).Append("</th><th>difference</th><th>noise (2σ)</th><th>verdict</th></tr>");
            foreach (var r in group)
            {
                var css = r.Verdict switch { Verdict.Better => "better", Verdict.Worse => "worse", _ => "noise" };
                body.Append("<tr><td>").Append(E($"{r.Figure} ({r.Unit})")).Append("</td><td>").Append(Formats.Number(r.A)).Append("</td><td>").Append(Formats.Number(r.B))
                    .Append("</td><td>").Append(RatioText(r.Ratio)).Append("</td><td>").Append(Signed(r.B - r.A)).Append("</td><td>").Append(r.Noise is { } n ? "±" + Formats.Number(n) : "—")
                    .Append("</td><td class=\"result ").Append(css).Append("\">").Append(VerdictText(r.Verdict)).Append("</td></tr>");
            }
            body.Append("</table>");
            if (group.Key.Step is null
                && A.Scenarios.FirstOrDefault(s => s.Name == group.Key.Scenario) is { } sa
                && B.Scenarios.FirstOrDefault(s => s.Name == group.Key.Scenario) is { } sb)
            {
                body.Append("<div class=\"charts\">");
                foreach (var chart in ScenarioCharts(sa, sb)) body.Append("<figure>").Append(chart).Append("</figure>");
                body.Append("</div>");
            }
        }
        body.Append("<h2>Method</h2><p>").Append(E("A figure's noise in one run is the standard deviation of its per-second values over the run's full seconds divided by the square root of their number (its standard error). B differs from A when the difference exceeds twice the combined standard error, sqrt(seA² + seB²), and for latency also 1% of the larger value (the resolution of the per-second histograms). Seconds are taken as independent, which a stall lasting several seconds is not: \"within noise\" means no evidence of a difference, not equality. The max is a single request and gets no estimate. Drift between the two runs (another load on the machine, a warmer node) is not in this noise: alternate A and B (A, B, A, B) and compare each pair.")).Append("</p>");
        return Page.Render(title, body.ToString());
    }

    private IEnumerable<string> ScenarioCharts(ScenarioReport a, ScenarioReport b)
    {
        var colorA = Charts.Palette[0];
        var colorB = Charts.Palette[1];
        var decades = Charts.PercentileDecades(Math.Max(a.Ok + a.Fail, b.Ok + b.Fail));
        yield return Charts.Draw("compare-latency-by-percentile", "Latency by percentile (log scale)",
            new Axis("percentile (each tick ten times rarer than the last)", 0, decades, AxisKind.Percentile), "latency (ms)",
            [new Series(AName, colorA, HtmlReport.Curve(a.LatencyDistributionMs, decades)), new Series(BName, colorB, HtmlReport.Curve(b.LatencyDistributionMs, decades))]);
        var n = Math.Max(Hints.Charted(a), Hints.Charted(b));
        var time = new Axis("time into the run (s)", 0, Math.Max(n, 1));
        yield return Charts.Draw("compare-p99-per-second", "p99 latency per second", time, "latency (ms)",
            [new Series(AName, colorA, HtmlReport.PerSecond(a.PerSecond.LatencyMs.P99, Hints.Charted(a))), new Series(BName, colorB, HtmlReport.PerSecond(b.PerSecond.LatencyMs.P99, Hints.Charted(b)))]);
        yield return Charts.Draw("compare-rate", "Completed OK per second", time, "iterations per second",
            [new Series(AName, colorA, HtmlReport.PerSecond(a.PerSecond.Ok.Select(v => (double)v), Hints.Charted(a))), new Series(BName, colorB, HtmlReport.PerSecond(b.PerSecond.Ok.Select(v => (double)v), Hints.Charted(b)))]);
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
