using System.Globalization;
using System.Net;
using System.Text;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>
/// index.html and index.md for a folder of runs (what benchmark.sh leaves): one summary row per scenario
/// of each run, linking its report, then what the script printed (summary.txt) and the other files.
/// </summary>
public static class RunIndex
{
    public const string ScriptSummaryFile = "summary.txt";

    /// <summary>The runs in the folder's subfolders that have a report.json, in the order they ran.</summary>
    public static IReadOnlyList<(string Folder, RunReport Run)> Runs(string folder)
        => Directory.GetDirectories(folder)
            .Where(d => File.Exists(Path.Combine(d, "report.json")))
            .Select(d => (Folder: Path.GetFileName(d), Run: RunReport.Read(d)))
            .OrderBy(r => r.Run.Date).ThenBy(r => r.Folder, StringComparer.Ordinal)
            .ToList();

    public static void Write(string folder, string? title = null)
    {
        var runs = Runs(folder);
        title ??= $"Load-test runs in {Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar))}";
        var summary = Path.Combine(folder, ScriptSummaryFile);
        var printed = File.Exists(summary) ? File.ReadAllText(summary) : null;
        var others = Directory.GetFiles(folder).Select(Path.GetFileName).OfType<string>()
            .Where(f => f is not ("index.html" or "index.md" or ScriptSummaryFile)).Order(StringComparer.Ordinal).ToList();
        File.WriteAllText(Path.Combine(folder, "index.md"), Markdown(title, runs, printed, others));
        File.WriteAllText(Path.Combine(folder, "index.html"), Html(title, runs, printed, others));
    }

    private static IEnumerable<(string Folder, RunReport Run, ScenarioReport Scenario)> Rows(IReadOnlyList<(string Folder, RunReport Run)> runs)
        => runs.SelectMany(r => r.Run.Scenarios.Select(s => (r.Folder, r.Run, s)));

    private static bool Passed(ScenarioReport s) => s.AllThresholds.All(t => t.Outcome.Passed) && s.Valid;

    private static string Verdict(ScenarioReport s)
        => (s.AllThresholds.All(t => t.Outcome.Passed) ? "passed" : "FAILED") + (s.Valid ? "" : ", INVALID") + (s.Fail > 0 ? $", {Formats.Number(s.FailPercent)}% failed" : "");

    /// <summary>pass, fail, or warn: passed with failed requests, which no one should read as a clean pass.</summary>
    private static string Css(ScenarioReport s) => !Passed(s) ? "fail" : s.Fail > 0 ? "warn" : "pass";

    /// <summary>The run's warnings and the scenario's warning hints: each is on the run's own report.</summary>
    private static int Warnings(RunReport run, ScenarioReport s) => run.Warnings.Count + s.Hints.Count(h => h.Level == "warning");

    private static string Metrics(ScenarioReport s) => string.Join(", ", s.Metrics.Select(m => $"{m.Key} {Formats.Number(m.Value)}"));

    public static string Markdown(string title, IReadOnlyList<(string Folder, RunReport Run)> runs, string? printed, IReadOnlyList<string> others)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {title}").AppendLine();
        sb.AppendLine("| run | scenario | load | target/s | achieved | ok | fail | p50 ms | p99 ms | p99.9 ms | max ms | other | verdict | warnings |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|");
        foreach (var (folder, run, s) in Rows(runs))
        {
            var l = s.LatencyMs;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| [{folder}]({folder}/report.md) | {s.Name} | {s.Load} | {(s.OpenModel ? Formats.Number(s.TargetRps) : "—")} | {Formats.Achieved(s.AchievedRps, s.FailRps)} | {s.Ok} | {s.Fail} | {Formats.Number(l.P50)} | {Formats.Number(l.P99)} | {Formats.Number(l.P999)} | {Formats.Number(l.Max)} | {Metrics(s)} | {Verdict(s)} | {Warnings(run, s)} |");
        }
        if (printed is not null) sb.AppendLine().AppendLine("## What the script printed").AppendLine().AppendLine("```").Append(printed.TrimEnd()).AppendLine().AppendLine("```");
        if (others.Count > 0)
        {
            sb.AppendLine().AppendLine("## Other files").AppendLine();
            foreach (var f in others) sb.AppendLine(CultureInfo.InvariantCulture, $"- [{f}]({f})");
        }
        return sb.ToString();
    }

    public static string Html(string title, IReadOnlyList<(string Folder, RunReport Run)> runs, string? printed, IReadOnlyList<string> others)
    {
        var body = new StringBuilder();
        body.Append("<h1>").Append(E(title)).Append("</h1>");
        if (runs.Count > 0)
        {
            var first = runs[0].Run;
            body.Append("<p class=\"sub\">").Append(runs.Count).Append(" runs · generator ").Append(E(first.Generator)).Append(first.Commit is null ? "" : $" (commit {E(first.Commit[..Math.Min(12, first.Commit.Length)])})")
                .Append(" · ").Append(E(first.Machine)).Append("</p>");
        }
        var all = Rows(runs).Count();
        var failed = Rows(runs).Count(r => !Passed(r.Scenario));
        var withFailures = Rows(runs).Count(r => r.Scenario.Fail > 0);
        var failures = withFailures == 0 ? "" : $"; {withFailures} of them had failed requests";
        body.Append("<div id=\"verdict\" class=\"verdict ").Append(failed > 0 ? "fail" : withFailures > 0 ? "warn" : "pass").Append("\">")
            .Append(E(failed == 0 ? $"All {all} scenario runs passed their thresholds and are valid{failures}" : $"{failed} of {all} scenario runs failed a threshold or are invalid{failures}")).Append("</div>");
        body.Append("<table class=\"index\"><tr><th>run</th><th>scenario</th><th>load</th><th>target/s</th><th>achieved</th><th>ok</th><th>fail</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>other</th><th>verdict</th><th>warnings</th></tr>");
        foreach (var (folder, run, s) in Rows(runs))
        {
            var l = s.LatencyMs;
            var verdict = Verdict(s);
            body.Append("<tr class=\"").Append(Css(s)).Append("\"><td><a href=\"").Append(E(Uri.EscapeDataString(folder))).Append("/report.html\">").Append(E(folder)).Append("</a></td><td class=\"text\">")
                .Append(E(s.Name)).Append("</td><td class=\"text\">").Append(E(s.Load)).Append("</td><td>").Append(s.OpenModel ? Formats.Number(s.TargetRps) : "—").Append("</td><td>")
                .Append(E(Formats.Achieved(s.AchievedRps, s.FailRps))).Append("</td><td>").Append(Formats.Count(s.Ok)).Append("</td><td>").Append(Formats.Count(s.Fail)).Append("</td><td>")
                .Append(Formats.Number(l.P50)).Append("</td><td>").Append(Formats.Number(l.P99)).Append("</td><td>").Append(Formats.Number(l.P999)).Append("</td><td>")
                .Append(Formats.Number(l.Max)).Append("</td><td>").Append(E(Metrics(s))).Append("</td><td class=\"result\">").Append(E(verdict)).Append("</td><td>").Append(Warnings(run, s)).Append("</td></tr>");
        }
        body.Append("</table>");
        if (printed is not null) body.Append("<h2>What the script printed</h2><pre>").Append(E(printed.TrimEnd())).Append("</pre>");
        if (others.Count > 0)
        {
            body.Append("<h2>Other files</h2><ul>");
            foreach (var f in others) body.Append("<li><a href=\"").Append(E(Uri.EscapeDataString(f))).Append("\">").Append(E(f)).Append("</a></li>");
            body.Append("</ul>");
        }
        return Page.Render(title, body.ToString());
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
