using Orleans.Membership.LoadTests.Harness;

namespace Orleans.Membership.LoadTests.Tests;

public sealed class ComparisonTests
{
    // Hand-made report.json files with four full seconds each. A's p99 alternates 8 and 12 ms (sample
    // standard deviation sqrt(16/3) = 2.3094, standard error 1.1547), B's 18 and 22 (the same error).
    private const string A = """
        {
          "title": "checkout before", "generator": "1.0.0", "commit": "aaaa", "machine": "2 cores",
          "date": "2025-11-01T10:00:00+00:00", "passed": true, "valid": true,
          "parameters": { "scenario": "checkout", "rate": "100/s", "out": "a" },
          "scenarios": [ {
            "name": "checkout", "ok": 400, "fail": 0, "rps": 100, "fullSeconds": 4, "durationSeconds": 4.001,
            "openModel": true, "targetRps": 100, "achievedRps": 100, "valid": true,
            "latencyMs": { "mean": 4, "p50": 5, "p75": 6, "p95": 7, "p99": 10, "p999": 15, "max": 30 },
            "perSecond": {
              "ok": [100, 100, 100, 100, 3], "fail": [0, 0, 0, 0, 0],
              "latencyMs": { "mean": [4, 4, 4, 4], "p50": [5, 5, 5, 5], "p75": [6, 6, 6, 6], "p95": [7, 7, 7, 7],
                             "p99": [8, 12, 8, 12], "p999": [15, 15, 15, 15], "max": [30, 20, 20, 20] }
            },
            "steps": [ { "name": "benefit-check", "ok": 400, "fail": 0, "rps": 100, "latencyMs": { "p99": 10 } } ]
          } ]
        }
        """;

    private const string B = """
        {
          "title": "checkout after", "generator": "1.0.0", "commit": "bbbb", "machine": "2 cores",
          "date": "2025-11-02T10:00:00+00:00", "passed": true, "valid": true,
          "parameters": { "scenario": "checkout", "rate": "110/s", "out": "b" },
          "scenarios": [ {
            "name": "checkout", "ok": 440, "fail": 4, "rps": 110, "fullSeconds": 4, "durationSeconds": 4.001,
            "openModel": true, "targetRps": 111, "achievedRps": 111, "valid": true,
            "latencyMs": { "mean": 4, "p50": 5.02, "p75": 6, "p95": 7, "p99": 20, "p999": 14.9, "max": 31 },
            "perSecond": {
              "ok": [108, 112, 108, 112], "fail": [0, 4, 0, 0],
              "latencyMs": { "mean": [4, 4, 4, 4], "p50": [5.02, 5.02, 5.02, 5.02], "p75": [6, 6, 6, 6], "p95": [7, 7, 7, 7],
                             "p99": [18, 22, 18, 22], "p999": [14.9, 14.9, 14.9, 14.9], "max": [31, 20, 20, 20] }
            },
            "steps": [ { "name": "benefit-check", "ok": 440, "fail": 4, "rps": 110, "latencyMs": { "p99": 20 } } ]
          } ]
        }
        """;

    private static (string A, string B) Folders()
    {
        var root = Directory.CreateTempSubdirectory("lt-compare-").FullName;
        var a = Directory.CreateDirectory(Path.Combine(root, "before")).FullName;
        var b = Directory.CreateDirectory(Path.Combine(root, "after")).FullName;
        File.WriteAllText(Path.Combine(a, "report.json"), A);
        File.WriteAllText(Path.Combine(b, "report.json"), B);
        return (a, b);
    }

    private static ComparisonRow Row(Comparison c, string figure, string? step = null)
        => c.Rows.Single(r => r.Scenario == "checkout" && r.Step == step && r.Figure == figure);

    private static Comparison Compared()
    {
        var (a, b) = Folders();
        return Comparison.Of(RunReport.Read(a), RunReport.Read(Path.Combine(b, "report.json")));
    }

    [Fact]
    public void The_standard_error_is_the_sample_deviation_over_the_root_of_the_count()
    {
        Assert.Equal(Math.Sqrt(16.0 / 3) / 2, Comparison.StandardError([8, 12, 8, 12])!.Value, 12);
        Assert.Equal(0, Comparison.StandardError([5, 5, 5])!.Value);
        Assert.Null(Comparison.StandardError([5]));
        Assert.Null(Comparison.StandardError(null));
    }

    [Fact]
    public void A_latency_change_larger_than_both_runs_noise_is_worse()
    {
        var p99 = Row(Compared(), "p99");
        Assert.Equal((10, 20, 2.0), (p99.A, p99.B, p99.Ratio!.Value));
        // se 1.1547 in each run: 2 * sqrt(2) * 1.1547 = 3.266.
        Assert.Equal(2 * Math.Sqrt(2) * Math.Sqrt(16.0 / 3) / 2, p99.Noise!.Value, 9);
        Assert.Equal(Verdict.Worse, p99.Verdict);
    }

    [Fact]
    public void A_throughput_gain_beyond_the_noise_is_better()
    {
        var rate = Row(Compared(), "ok/s");
        // Only the four full seconds count: A's partial fifth second (3) is left out, so A's deviation is 0.
        Assert.Equal(2 * Math.Sqrt(16.0 / 3) / 2, rate.Noise!.Value, 9);
        Assert.Equal((1.1, Verdict.Better), (Math.Round(rate.Ratio!.Value, 9), rate.Verdict));
    }

    [Fact]
    public void Steady_latency_gets_a_noise_floor_of_one_percent_so_a_rounding_step_is_not_a_change()
    {
        var p50 = Row(Compared(), "p50");
        Assert.Equal(0.0502, p50.Noise!.Value, 9); // both deviations 0: the floor, 1% of 5.02
        Assert.Equal(Verdict.WithinNoise, p50.Verdict);
        var p999 = Row(Compared(), "p99.9");
        Assert.Equal((Verdict.WithinNoise, 0.15), (p999.Verdict, Math.Round(p999.Noise!.Value, 9)));
    }

    [Fact]
    public void Equal_figures_are_the_same_and_the_max_and_figures_without_series_get_no_estimate()
    {
        var c = Compared();
        Assert.Equal(Verdict.Same, Row(c, "p95").Verdict);
        Assert.Equal(1, Row(c, "p95").Ratio);
        Assert.Equal((Verdict.NoEstimate, (double?)null), (Row(c, "max").Verdict, Row(c, "max").Noise));
        // The steps of these hand-made files have no per-second series.
        Assert.Equal(Verdict.NoEstimate, Row(c, "p99", "benefit-check").Verdict);
    }

    [Fact]
    public void Failures_appearing_are_worse_when_beyond_the_noise_and_a_ratio_from_zero_is_undefined()
    {
        var fail = Row(Compared(), "fail %");
        Assert.Equal(0, fail.A);
        Assert.Equal(100.0 * 4 / 444, fail.B, 9);
        Assert.Null(fail.Ratio);
        // B's per-second fail % [0, 3.45, 0, 0]: se 0.862, A's 0: a noise of 1.724 exceeds the difference of 0.9.
        Assert.Equal(Verdict.WithinNoise, fail.Verdict);
    }

    [Fact]
    public void The_failed_rate_stands_beside_the_ok_rate_when_either_run_failed_requests()
    {
        var c = Compared();
        var figures = c.Rows.Where(r => r.Scenario == "checkout" && r.Step is null).Select(r => r.Figure).ToList();
        Assert.Equal(figures.IndexOf("ok/s") + 1, figures.IndexOf("failed/s"));
        // B's report.json predates failRps: its 4 failures over 4.001 s are 1/s.
        var failed = Row(c, "failed/s");
        Assert.Equal((0, 1, "1/s"), (failed.A, failed.B, failed.Unit));
        Assert.Contains("| failed/s (1/s) | 0 | 1 |", c.Markdown());

        var (a, _) = Folders();
        var clean = Comparison.Of(RunReport.Read(a), RunReport.Read(a));
        Assert.DoesNotContain(clean.Rows, r => r.Figure == "failed/s");
    }

    [Fact]
    public void A_run_that_failed_its_requests_is_called_out_as_not_comparable()
    {
        var (a, b) = Folders();
        var failing = Path.Combine(b, "report.json");
        File.WriteAllText(failing, B.Replace("\"ok\": 440, \"fail\": 4, \"rps\": 110, \"fullSeconds\"", "\"ok\": 340, \"fail\": 104, \"rps\": 85, \"fullSeconds\""));
        var notes = Comparison.Of(RunReport.Read(a), RunReport.Read(failing)).Notes;
        Assert.Contains("checkout failed 23.42% of its requests in B: its figures describe failures as much as the node, so the two runs do not compare", notes);
        Assert.DoesNotContain(Compared().Notes, n => n.Contains("of its requests", StringComparison.Ordinal)); // 0.9% is not
    }

    [Fact]
    public void Different_targets_and_parameters_are_called_out()
    {
        var notes = Compared().Notes;
        Assert.Contains("checkout ran at different target rates (100/s in A, 111/s in B): latency at different rates differs for that reason alone", notes);
        Assert.Contains("parameter rate differs: 100/s in A, 110/s in B", notes);
        Assert.DoesNotContain(notes, n => n.Contains("parameter out", StringComparison.Ordinal));
    }

    [Fact]
    public void A_report_json_written_before_the_per_second_series_still_compares()
    {
        // The shape report.json had before it carried per-second series and distributions.
        const string old = """
            {"title":"checkout against http://127.0.0.1:5080/","machine":"2 cores, Unix 6.1.0, .NET 10.0.0","date":"2026-11-29T04:00:00.1234567+00:00",
             "passed":true,"valid":true,"scenarios":[{"name":"checkout","ok":1000,"fail":0,"rps":100,"bytes":5000,
             "latencyMs":{"p50":0.5,"p75":0.6,"p95":1,"p99":2,"p999":3,"max":4},"serviceTimeMs":{"p50":0.4,"p75":0.5,"p95":0.9,"p99":1.8,"p999":2.5,"max":3.9},
             "statusCodes":{"200":1000},"thresholds":[{"description":"fewer than 1% of requests fail","passed":true}],
             "durationSeconds":10,"targetRps":100,"achievedRps":100,"schedulerLagMs":{"p50":0.1,"p75":0.1,"p95":0.2,"p99":0.3,"p999":0.4,"max":0.5},
             "maxLatencyMsPerSecond":[4,2,2,2,2,2,2,2,2,2],"valid":true,"invalidReason":null,"metrics":{},
             "steps":[{"name":"benefit-check","ok":1000,"fail":0,"rps":100,"bytes":5000,"latencyMs":{"p50":0.5,"p75":0.6,"p95":1,"p99":2,"p999":3,"max":4},
             "serviceTimeMs":{"p50":0.4,"p75":0.5,"p95":0.9,"p99":1.8,"p999":2.5,"max":3.9},"statusCodes":{"200":1000},"thresholds":[]}],"failures":{}}]}
            """;
        var (_, b) = Folders();
        var file = Path.Combine(Path.GetDirectoryName(b)!, "old.json");
        File.WriteAllText(file, old);
        var c = Comparison.Of(RunReport.Read(file), RunReport.Read(b));

        Assert.Equal((2, 20), (Row(c, "p99").A, Row(c, "p99").B));
        Assert.Equal(Verdict.NoEstimate, Row(c, "p99").Verdict);
        Assert.Contains("fewer than 1% of requests fail", HtmlReport.Render(RunReport.Read(file)));
    }

    [Fact]
    public async Task Compare_writes_markdown_and_html_with_each_figure_side_by_side()
    {
        var (a, b) = Folders();
        var folder = Path.Combine(Path.GetDirectoryName(a)!, "out");
        var output = new StringWriter();
        Assert.Equal(0, await Cli.RunAsync(["compare", a, b, "--out", folder], output, new StringWriter()));

        var md = File.ReadAllText(Path.Combine(folder, "compare.md"));
        Assert.Contains("| p99 (ms) | 10 | 20 | 2.000× | +10 | ±3.266 | **worse** |", md);
        Assert.Contains("| ok/s (1/s) | 100 | 110 | 1.100× | +10 | ±2.309 | **better** |", md);
        Assert.Contains("| p50 (ms) | 5 | 5.02 | 1.004× | +0.02 | ±0.05 | within noise |", md);
        Assert.Contains("| max (ms) | 30 | 31 | 1.033× | +1 | — | no estimate |", md);
        Assert.Contains("B against A: 1 better and 1 worse beyond the noise", md);
        var html = File.ReadAllText(Path.Combine(folder, "compare.html"));
        Assert.Contains("<td class=\"result worse\">worse</td>", html);
        Assert.Contains("data-chart=\"compare-latency-by-percentile\"", html);
        Assert.Contains("<div id=\"verdict\" class=\"verdict fail\">", html);
        Assert.Contains(md, output.ToString());
    }

    [Fact]
    public async Task Compare_refuses_a_wrong_number_of_runs_and_names_a_missing_report()
    {
        var errors = new StringWriter();
        Assert.Equal(Cli.BadArguments, await Cli.RunAsync(["compare", "only-one"], new StringWriter(), errors));
        Assert.Contains("compare needs two runs", errors.ToString());

        errors = new StringWriter();
        var (a, _) = Folders();
        Assert.Equal(1, await Cli.RunAsync(["compare", a, "/nonexistent/run"], new StringWriter(), errors));
        Assert.Contains("no report.json at '/nonexistent/run'", errors.ToString());
    }

    [Fact]
    public async Task Index_links_every_run_with_its_summary_row_and_what_the_script_printed()
    {
        var (a, _) = Folders();
        var root = Path.GetDirectoryName(a)!;
        File.WriteAllText(Path.Combine(root, RunIndex.ScriptSummaryFile), "checkout max: 110 req/s\n");
        File.WriteAllText(Path.Combine(root, "wrk-baseline.txt"), "Requests/sec: 1\n");
        Assert.Equal(0, await Cli.RunAsync(["index", root, "--title", "Benchmark"], new StringWriter(), new StringWriter()));

        var html = File.ReadAllText(Path.Combine(root, "index.html"));
        Assert.True(html.IndexOf("href=\"before/report.html\"", StringComparison.Ordinal) < html.IndexOf("href=\"after/report.html\"", StringComparison.Ordinal), "runs in the order they ran");
        Assert.Contains("<td class=\"text\">checkout</td>", html);
        Assert.Contains("<h1>Benchmark</h1>", html);
        Assert.Contains("checkout max: 110 req/s", html);
        Assert.Contains("href=\"wrk-baseline.txt\"", html);
        var md = File.ReadAllText(Path.Combine(root, "index.md"));
        Assert.Contains("| [after](after/report.md) | checkout |", md);
        Assert.True(md.IndexOf("| run |", StringComparison.Ordinal) < md.IndexOf("What the script printed", StringComparison.Ordinal), "the table comes first");
    }
}
