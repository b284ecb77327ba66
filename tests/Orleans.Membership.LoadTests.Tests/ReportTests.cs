using System.Text.RegularExpressions;
using Orleans.Membership.LoadTests.Harness;
using Harness = Orleans.Membership.LoadTests.Harness;

namespace Orleans.Membership.LoadTests.Tests;

public sealed class ReportTests
{
    /// <summary>Two steps, one failing on every fifth call with a 503, at 200/s for 2 s: a run with something in every part of the report.</summary>
    internal static async Task<ScenarioResult> TwoStepRun(double maxP99Ms = 1000)
    {
        var scenario = Harness.Scenario.Create("shop", async ctx =>
            {
                await Step.Run("browse", ctx, () => Task.FromResult(Response.Ok(200, 100)));
                return await Step.Run("buy", ctx, () => Task.FromResult(ctx.InvocationNumber % 5 == 0 ? Response.Fail(503, "HTTP 503 POST /buy") : Response.Ok(201, 10)));
            })
            .WithLoadSimulations(Simulation.Inject(200, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)))
            .WithThresholds(
                Threshold.Create(s => s.Fail.Request.Percent < 50, "fewer than half fail"),
                Threshold.Create("buy", s => s.Ok.Latency.Percent99 <= maxP99Ms, $"buy p99 <= {maxP99Ms} ms"));
        // Never flagged invalid: these tests are about what the report shows, not about this machine's load.
        return (await Runner.RunAsync([scenario], new RunOptions { MaxSchedulerLagP99 = TimeSpan.FromHours(1), MinStartedShare = 0 }))[0];
    }

    [Fact]
    public async Task Report_json_holds_every_figure_of_the_scenario_and_its_steps()
    {
        var result = await TwoStepRun();
        var run = RunReport.From([result], new RunInfo("shop test", new Dictionary<string, string> { ["rate"] = "200/s" }, ["a warning"]), DateTimeOffset.UnixEpoch);
        var s = run.Scenarios.Single();

        Assert.Equal(400, s.Ok + s.Fail);
        Assert.True(s.Fail > 0 && s.Ok > 0);
        Assert.Equal(s.Ok + s.Fail, s.StatusCodes.Values.Sum());
        Assert.Equal(s.Fail, s.StatusCodes["503"]);
        Assert.Equal(["browse", "buy"], s.Steps.Select(x => x.Name));
        Assert.Equal(400 * 100, s.Steps[0].Bytes);
        Assert.True(s.OpenModel);
        Assert.Equal(Math.Round(result.Stats.Intended / result.DurationSeconds, 3), s.TargetRps);
        Assert.Equal("200/s for 2s (open model)", s.Load);
        var l = s.LatencyMs;
        Assert.True(l.Min > 0 && l.Min <= l.P50 && l.P50 <= l.P75 && l.P75 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max, $"{l}");
        Assert.InRange(l.Mean, l.Min, l.Max);
        Assert.True(l.StdDev >= 0);
        Assert.Equal(["fewer than half fail", "buy p99 <= 1000 ms"], s.AllThresholds.Select(t => t.Outcome.Description));
        Assert.True(run.Passed && run.Valid);
        Assert.Equal(["a warning"], run.Warnings);
        Assert.Equal("200/s", run.Parameters["rate"]);
        Assert.False(string.IsNullOrEmpty(run.Generator));

        // Per second: every iteration counted once, the target as intended, a latency for each second with load.
        Assert.Equal(2, s.FullSeconds);
        Assert.Equal(s.Ok, s.PerSecond.Ok.Sum());
        Assert.Equal(s.Fail, s.PerSecond.Fail.Sum());
        Assert.Equal(result.Stats.Intended, s.PerSecond.Intended!.Sum());
        Assert.All(s.PerSecond.LatencyMs.P99.Take(2), v => Assert.NotNull(v));
        Assert.Equal(s.PerSecond.Ok.Count, s.PerSecond.LatencyMs.Max.Count);

        // Latency by percentile: rising, from 0% to the maximum at 100%.
        var curve = s.LatencyDistributionMs;
        Assert.Equal(0, curve[0].Percentile);
        Assert.Equal((100, l.Max), (curve[^1].Percentile, curve[^1].Ms));
        Assert.True(curve.Zip(curve.Skip(1)).All(p => p.First.Percentile < p.Second.Percentile && p.First.Ms <= p.Second.Ms));
    }

    [Fact]
    public async Task The_achieved_rate_is_the_OK_requests_and_the_failed_rate_stands_beside_it_everywhere()
    {
        // About every fifth iteration fails over the 2 s of load.
        var result = await TwoStepRun();
        // Rates count the completions while the load ran, over its seconds from the first answer.
        var seconds = result.Stats.Iterations.AnsweringSeconds(result.DurationSeconds);
        Assert.InRange(seconds, result.DurationSeconds - 1, result.DurationSeconds);
        var ok = result.Stats.Iterations.OkInLoad / seconds;
        var failed = result.Stats.Iterations.FailInLoad / seconds;
        Assert.True(result.Stats.Iterations.Fail > 0);
        Assert.Equal(ok, result.AchievedRate, 9);
        Assert.Equal(failed, result.FailedRate, 9);

        var json = Reports.Json([result], "rates")["scenarios"]![0]!;
        Assert.Equal(Math.Round(ok, 3), json["achievedRps"]!.GetValue<double>());
        Assert.Equal(json["rps"]!.GetValue<double>(), json["achievedRps"]!.GetValue<double>());
        Assert.Equal(Math.Round(failed, 3), json["failRps"]!.GetValue<double>());
        Assert.Equal(Math.Round(failed, 3), json["steps"]![1]!["failRps"]!.GetValue<double>()); // buy
        Assert.Equal(0, json["steps"]![0]!["failRps"]!.GetValue<double>()); // browse

        var achieved = $"achieved {Formats.Achieved(ok, failed)}";
        Assert.Matches(@"^\d+(\.\d+)? ok/s \(and \d+(\.\d+)? failed/s\)$", Formats.Achieved(ok, failed));
        Assert.Contains(achieved, Reports.Console([result]));
        Assert.Matches(@"shop/buy +ok +\d+ fail +\d+ ok/s +\d+\.\d failed/s \d+\.\d +p50", Reports.Console([result]));
        var run = RunReport.From([result], new RunInfo("rates"), DateTimeOffset.UnixEpoch);
        var reported = $"achieved {Formats.Achieved(run.Scenarios[0].AchievedRps, run.Scenarios[0].FailRps)}"; // from report.json's rounded figures
        var md = Reports.Markdown(run);
        Assert.Contains(reported, md);
        Assert.Contains("| ok/s | failed/s |", md);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(reported), HtmlReport.Render(run));
        Assert.Contains("<th rowspan=\"2\">failed/s</th>", HtmlReport.Render(run));
        var csv = Reports.Csv(run).Split('\n');
        Assert.EndsWith(",fail_rps", csv[0]);
        Assert.EndsWith("," + Math.Round(failed, 3).ToString(System.Globalization.CultureInfo.InvariantCulture), csv[1]);
    }

    [Fact]
    public void A_run_without_failures_shows_no_failed_rate()
        => Assert.Equal("1,234.5 ok/s", Formats.Achieved(1234.5, 0));

    [Fact]
    public async Task Report_json_reads_back_as_written()
    {
        var run = RunReport.From([await TwoStepRun()], new RunInfo("round trip"), DateTimeOffset.UnixEpoch);
        var folder = Directory.CreateTempSubdirectory("lt-json-").FullName;
        File.WriteAllText(Path.Combine(folder, "report.json"), run.ToJson());

        var read = RunReport.Read(folder);
        Assert.Equal(run.ToJson(), read.ToJson());
        Assert.Equal(run.Scenarios[0].PerSecond.LatencyMs.P99, read.Scenarios[0].PerSecond.LatencyMs.P99);
    }

    [Fact]
    public async Task The_html_report_has_the_verdict_thresholds_parameters_tables_and_five_charts_per_scenario()
    {
        var run = RunReport.From([await TwoStepRun(maxP99Ms: 0.0001)], new RunInfo("shop test", new Dictionary<string, string> { ["target"] = "http://127.0.0.1:1/" }), DateTimeOffset.UnixEpoch);
        var html = HtmlReport.Render(run);

        Assert.Matches("<div id=\"verdict\" class=\"verdict fail\">FAILED: 1 of 2 thresholds failed<br>[0-9]+ of 400 requests failed \\([0-9.]+%\\)</div>", html);
        Assert.Contains("<td>shop / buy</td><td>buy p99 &lt;= 0.0001 ms</td><td class=\"result\">✘ failed</td>", html);
        Assert.Contains("<th>target</th><td>http://127.0.0.1:1/</td>", html);
        foreach (var chart in new[] { "rate", "latency-per-second", "slowest-per-second", "errors-per-second", "latency-by-percentile" })
        {
            Assert.Contains($"data-chart=\"{chart}\"", html);
        }
        Assert.Contains("latency from the intended start, of every request, failed ones too (ms)</th></tr><tr><th>min</th><th>mean</th><th>stddev</th><th>p50</th><th>p75</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>", html);
        foreach (var column in new[] { "ok", "fail", "fail %", "ok/s", "bytes" }) Assert.Contains($"<th rowspan=\"2\">{column}</th>", html);
        Assert.Contains("<td>shop / browse</td>", html);
        Assert.Contains("service time (from getting a connection)", html);
        Assert.Contains("scheduler lag (the generator&#39;s own delay)", html);
        Assert.Contains("<td>503</td>", html);
        Assert.Contains("HTTP 503 POST /buy", html);
        // Self-contained: nothing fetched, no script.
        Assert.DoesNotMatch(new Regex("(src|href)=\"https?://|<script|@import|url\\("), html);
    }

    [Fact]
    public async Task A_passing_run_shows_a_passing_banner()
    {
        var passing = Harness.Scenario.Create("ok", _ => Task.FromResult(Response.Ok()))
            .WithLoadSimulations(Simulation.IterationsForConstant(1, 10))
            .WithThresholds(Threshold.Create(s => s.Fail.Request.Count == 0, "none fail"));
        var html = HtmlReport.Render(RunReport.From(await Runner.RunAsync([passing]), new RunInfo("ok"), DateTimeOffset.UnixEpoch));
        Assert.Contains("<div id=\"verdict\" class=\"verdict pass\">PASSED: all 1 thresholds passed, and the run is valid</div>", html);
    }

    [Fact]
    public void A_run_that_passed_with_failed_requests_is_not_shown_as_a_clean_pass()
    {
        // 1,000 OK and 250 failed, and no threshold about failures: it passed, but a fifth of its requests failed.
        var s = Scenario("checkout", ok: Enumerable.Repeat(100L, 10), fullSeconds: 10, fail: Enumerable.Repeat(25L, 10));
        var run = new RunReport { Title = "t", Passed = true, Valid = true, Scenarios = [s] };

        Assert.Contains("<div id=\"verdict\" class=\"verdict warn\">PASSED: no thresholds were set, and the run is valid<br>but 250 of 1,250 requests failed (20%): see the failures below</div>", HtmlReport.Render(run));
        Assert.Contains("**PASSED**, but 250 of 1,250 requests failed (20%)", Reports.Markdown(run));
        var index = RunIndex.Html("runs", [("r1", run)], null, []);
        Assert.Contains("<div id=\"verdict\" class=\"verdict warn\">All 1 scenario runs passed their thresholds and are valid; 1 of them had failed requests</div>", index);
        Assert.Contains("<td class=\"result\">passed, 20% failed</td>", index);
        Assert.Contains("| passed, 20% failed |", RunIndex.Markdown("runs", [("r1", run)], null, []));
    }

    [Fact]
    public void The_percentile_axis_reaches_as_far_as_every_request_does_failed_ones_too()
    {
        // 50 OK and 99,950 failed: the latency curve (of every request) runs to 99.999%.
        var s = Scenario("checkout", ok: [50], fullSeconds: 1, fail: [99_950]) with
        {
            LatencyDistributionMs = [new(0, 1), new(90, 2), new(99, 3), new(99.9, 4), new(99.99, 5), new(99.999, 6), new(100, 7)],
        };
        var chart = HtmlReport.ScenarioCharts(s).Single(c => c.Contains("data-chart=\"latency-by-percentile\"", StringComparison.Ordinal));
        Assert.Contains(">99.999%<", chart);
    }

    [Fact]
    public void Too_few_samples_for_p99_9_counts_every_request_as_the_tables_do()
    {
        var manyFailed = Scenario("checkout", ok: [500], fullSeconds: 1, fail: [5_000]);
        Assert.DoesNotContain(Hints.For(manyFailed), h => h.Text.StartsWith("Only", StringComparison.Ordinal));
        var few = Scenario("checkout", ok: [10], fullSeconds: 1, fail: [10]);
        Assert.Contains(Hints.For(few), h => h.Text == "Only 20 iterations: p99.9 and p99 are the slowest one or few, not a stable figure.");
    }

    [Fact]
    public void An_invalid_run_says_so_in_the_banner_and_a_warning()
    {
        var s = Scenario("checkout", ok: Enumerable.Repeat(100L, 10), fullSeconds: 10) with { Valid = false, InvalidReason = "the generator fell behind: p99 start lag 80.0 ms > 50 ms" };
        s = s with { Hints = Hints.For(s) };
        var html = HtmlReport.Render(new RunReport { Title = "t", Valid = false, Passed = true, Scenarios = [s] });

        Assert.Contains("INVALID: the generator fell behind (checkout: the generator fell behind: p99 start lag 80.0 ms &gt; 50 ms)", html);
        Assert.Contains("class=\"verdict fail\"", html);
        Assert.Contains(s.Hints, h => h.Level == "warning" && h.Text.StartsWith("The run is invalid", StringComparison.Ordinal));
    }

    [Fact]
    public void The_partial_last_second_is_left_out_of_the_rate_chart_and_a_hint_says_so()
    {
        // Ten full seconds at 100/s, then the last 0.2 s of load and the drain: 20 completions in second 10.
        var s = Scenario("checkout", ok: Enumerable.Repeat(100L, 10).Append(20), fullSeconds: 10, duration: 10.2);
        s = s with { Hints = Hints.For(s) };

        var rate = HtmlReport.ScenarioCharts(s).First();
        var completed = Regex.Match(rate, "data-series=\"completed OK\"[^>]*points=\"([^\"]*)\"").Groups[1].Value.Split(' ');
        Assert.Equal(10, completed.Length);
        Assert.Contains("the partial last second left out", rate);
        var hint = Assert.Single(s.Hints, h => h.Text.Contains("partial second", StringComparison.Ordinal));
        Assert.Contains("end at 10 s", hint.Text);
        Assert.Contains("Their 20 completed iterations are in every total", hint.Text);
    }

    [Fact]
    public void Failures_in_a_few_seconds_are_called_a_burst()
    {
        long[] fails = [0, 0, 0, 0, 0, 0, 40, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        var s = Scenario("festival", ok: Enumerable.Repeat(100L, 20), fullSeconds: 20, fail: fails);

        var hint = Assert.Single(Hints.For(s), h => h.Text.StartsWith("Failures", StringComparison.Ordinal));
        Assert.Equal("warning", hint.Level);
        Assert.Contains("98.9% of the 91 failures fell in 2 of 20 seconds (second 6, 7)", hint.Text);
    }

    [Fact]
    public void Failures_spread_over_the_run_are_not_called_a_burst()
    {
        var s = Scenario("festival", ok: Enumerable.Repeat(100L, 10), fullSeconds: 10, fail: Enumerable.Repeat(3L, 10));
        var hint = Assert.Single(Hints.For(s), h => h.Text.StartsWith("Failures", StringComparison.Ordinal));
        Assert.Equal(("info", "Failures are spread over the run: 30 in 10 of 10 seconds."), (hint.Level, hint.Text));
    }

    [Fact]
    public void A_second_far_slower_than_the_others_is_called_a_stall()
    {
        var s = Scenario("checkout", ok: Enumerable.Repeat(100L, 8), fullSeconds: 8) with { };
        s = s with { PerSecond = s.PerSecond with { LatencyMs = new PercentileSeries { Max = [2, 3, 2, 250, 3, 2, 2, 3] } } };
        var hint = Assert.Single(Hints.For(s), h => h.Text.StartsWith("A stall", StringComparison.Ordinal));
        Assert.Contains("in second 3: an iteration due then waited 250 ms, where the slowest of a second is 2.5 ms at the median", hint.Text);
    }

    [Fact]
    public void Falling_short_of_the_target_and_a_closed_model_are_explained()
    {
        var open = Scenario("checkout", ok: Enumerable.Repeat(100L, 5), fullSeconds: 5) with { TargetRps = 200, AchievedRps = 100 };
        Assert.Contains(Hints.For(open), h => h.Level == "warning" && h.Text.StartsWith("Completed 100/s OK of the 200/s intended (50%): the system did not keep up", StringComparison.Ordinal));
        var closed = open with { OpenModel = false, TargetRps = 0 };
        Assert.Contains(Hints.For(closed), h => h.Text.StartsWith("Closed model (no --rate)", StringComparison.Ordinal));
        Assert.DoesNotContain(Hints.For(closed), h => h.Text.StartsWith("Completed", StringComparison.Ordinal));
    }

    [Fact]
    public void Falling_short_of_the_target_because_requests_failed_is_called_failures_not_a_backlog()
    {
        // The node refused half of 200/s at once: 100/s OK, 100/s failed, nothing queued.
        var refused = Scenario("checkout", ok: Enumerable.Repeat(100L, 5), fullSeconds: 5, fail: Enumerable.Repeat(100L, 5)) with { TargetRps = 200, AchievedRps = 100, FailRps = 100 };
        var hint = Assert.Single(Hints.For(refused), h => h.Text.StartsWith("Completed", StringComparison.Ordinal));
        Assert.Equal(("warning", "Completed 100/s OK of the 200/s intended (50%): the rest, 100/s, failed (see the failures). A rate of failures is no throughput."), (hint.Level, hint.Text));
    }

    [Fact]
    public void A_machine_near_saturation_is_called_so_with_the_generators_share()
    {
        var s = Scenario("checkout", ok: Enumerable.Repeat(100L, 5), fullSeconds: 5);
        var saturated = s with { Cpu = new CpuUse(2, 97.5, 31.2) };
        var hint = Assert.Single(Hints.For(saturated), h => h.Text.StartsWith("The machine's", StringComparison.Ordinal));
        Assert.Equal("warning", hint.Level);
        Assert.Contains("2 cores were 97.5% busy while the load ran (this generator took 31.2% of them)", hint.Text);
        Assert.DoesNotContain(Hints.For(s with { Cpu = new CpuUse(2, 89.9, 31.2) }), h => h.Text.StartsWith("The machine's", StringComparison.Ordinal));
        Assert.DoesNotContain(Hints.For(s), h => h.Text.StartsWith("The machine's", StringComparison.Ordinal));
    }

    [Fact]
    public void Proc_stat_counts_idle_and_iowait_as_waiting_and_the_rest_as_busy()
    {
        // user nice system idle iowait irq softirq steal guest guest_nice
        Assert.Equal((1 + 2 + 3 + 6 + 7 + 8, 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8), CpuUse.ParseCpuLine("cpu  1 2 3 4 5 6 7 8 9 10"));
        Assert.Equal((10 + 30, 10 + 30 + 60), CpuUse.ParseCpuLine("cpu 10 0 30 60"));
        Assert.Null(CpuUse.ParseCpuLine("cpu0 1 2 3 4 5"));
        Assert.Null(CpuUse.ParseCpuLine("cpu 1 x 3 4 5"));
        Assert.Null(CpuUse.ParseCpuLine(null));
    }

    [Fact]
    public void Cpu_use_between_two_samples_is_a_share_of_all_cores()
    {
        var start = new CpuUse.Sample(2, 1_000, 4_000, TimeSpan.FromSeconds(1), 0);
        var end = new CpuUse.Sample(2, 1_000 + 150, 4_000 + 200, TimeSpan.FromSeconds(1.5), System.Diagnostics.Stopwatch.Frequency);
        // 150 of 200 jiffies busy; 0.5 s of CPU in 1 s on 2 cores.
        Assert.Equal(new CpuUse(2, 75, 25), CpuUse.Between(start, end));
        Assert.Null(CpuUse.Between(start, null));
        Assert.Null(CpuUse.Between(start, start));
    }

    [Fact]
    public async Task A_run_says_how_busy_the_machine_and_the_generator_were()
    {
        // Each iteration spins for a millisecond: the generator's own CPU is then certainly above zero.
        var scenario = Harness.Scenario.Create("spin", _ =>
            {
                var until = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 1000;
                while (System.Diagnostics.Stopwatch.GetTimestamp() < until) { }
                return Task.FromResult(Response.Ok());
            })
            .WithLoadSimulations(Simulation.Inject(200, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        var result = (await Runner.RunAsync([scenario], new RunOptions { MaxSchedulerLagP99 = TimeSpan.FromHours(1), MinStartedShare = 0 }))[0];
        if (!OperatingSystem.IsLinux())
        {
            // Without /proc/stat nothing is measured, and the report says nothing rather than a guess.
            Assert.Null(result.Cpu);
            return;
        }
        var cpu = Assert.IsType<CpuUse>(result.Cpu);
        Assert.Equal(File.ReadLines("/proc/stat").Count(l => Regex.IsMatch(l, "^cpu[0-9]")), cpu.Cores);
        Assert.InRange(cpu.GeneratorPercent, 0.1, 100);
        Assert.InRange(cpu.MachineBusyPercent, cpu.GeneratorPercent * 0.5, 100);
        var report = RunReport.From([result], new RunInfo("cpu"), DateTimeOffset.UnixEpoch);
        Assert.Equal(cpu, report.Scenarios.Single().Cpu);
        Assert.Contains($"cpu: {cpu.Describe()}", Reports.Console([result]));
    }

    [Fact]
    public void Chart_axes_have_ticks_units_and_a_percentile_scale()
    {
        var svg = Charts.Draw("t", "title", new Axis("percentile", 0, 4, AxisKind.Percentile), "latency (ms)",
            [new Series("latency", "#000", [(0, 1), (1, 2), (2, 3.5), (4, 9)])]);
        foreach (var tick in new[] { ">0%<", ">90%<", ">99%<", ">99.9%<", ">99.99%<" }) Assert.Contains(tick, svg);
        Assert.Contains(">latency (ms)<", svg);
        Assert.Contains(">10<", svg); // the y axis ends on the tick above the highest point
        Assert.Equal(3, Charts.PercentileX(99.9, 4), 9);
        Assert.Equal(4, Charts.PercentileX(100, 4));
        Assert.Equal(5, Charts.PercentileDecades(12_345));
    }

    [Fact]
    public void A_second_without_a_value_is_a_gap_in_the_line()
    {
        var svg = Charts.Draw("t", "title", new Axis("s", 0, 4), "ms", [new Series("p99", "#000", [(0.5, 1), (1.5, double.NaN), (2.5, 2), (3.5, 3)])]);
        Assert.Equal(2, Regex.Matches(svg, "<polyline").Count);
    }

    [Theory]
    [InlineData(0.7, 1)]
    [InlineData(1.2, 2)]
    [InlineData(2.2, 2.5)]
    [InlineData(3, 5)]
    [InlineData(7, 10)]
    [InlineData(0.031, 0.05)]
    [InlineData(1400, 2000)]
    public void Tick_steps_are_one_two_two_and_a_half_or_five_times_a_power_of_ten(double rough, double step)
        => Assert.Equal(step, Charts.NiceStep(rough), 9);

    /// <summary>A hand-made open-model scenario: <paramref name="ok"/> per second, no failures unless given.</summary>
    internal static ScenarioReport Scenario(string name, IEnumerable<long> ok, int fullSeconds, IEnumerable<long>? fail = null, double? duration = null)
    {
        var okList = ok.ToList();
        var failList = (fail ?? okList.Select(_ => 0L)).ToList();
        return new ScenarioReport
        {
            Name = name,
            Ok = okList.Sum(),
            Fail = failList.Sum(),
            OpenModel = true,
            DurationSeconds = duration ?? fullSeconds,
            FullSeconds = fullSeconds,
            TargetRps = okList.Take(fullSeconds).DefaultIfEmpty().Average(),
            AchievedRps = okList.Take(fullSeconds).DefaultIfEmpty().Average(),
            PerSecond = new SecondSeries { Ok = okList, Fail = failList, Intended = okList },
        };
    }
}
