using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Membership.LoadTests;
using Orleans.Membership.LoadTests.Harness;
using Orleans.Membership.LoadTests.Scenarios;

namespace Orleans.Membership.LoadTests.Tests;

public sealed class HarnessTests
{
    /// <summary>
    /// A fake system that stops answering for 2 s (a GC pause, a failover): every call that arrives in
    /// the stall waits until it ends. The stall is the behaviour under test, not a synchronization.
    /// </summary>
    private static Scenario Stalling(string name, LoadSimulation load)
    {
        var clock = Stopwatch.StartNew();
        var stallStart = TimeSpan.FromMilliseconds(500);
        var stallEnd = TimeSpan.FromMilliseconds(2500);
        return Scenario.Create(name, ctx => Step.Run("call", ctx, async () =>
        {
            var now = clock.Elapsed;
            if (now >= stallStart && now < stallEnd) await Task.Delay(stallEnd - now);
            return Response.Ok();
        })).WithLoadSimulations(load);
    }

    [Fact]
    public async Task An_open_model_shows_a_2s_stall_in_the_p99_that_a_closed_loop_hides()
    {
        var open = (await Runner.RunAsync([Stalling("open", Simulation.Inject(200, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)))]))[0];
        var closed = (await Runner.RunAsync([Stalling("closed", Simulation.KeepConstant(1, TimeSpan.FromSeconds(3)))]))[0];

        // Two thirds of the open model's calls were due during the stall: its p99 is close to the stall.
        Assert.True(open.View.Ok.Latency.Percent99 >= 1500, $"open p99 {open.View.Ok.Latency.Percent99} ms");
        // A single closed worker sends nothing while it waits, so the stall is one sample among thousands.
        Assert.True(closed.View.Ok.Latency.MaxMs >= 1500, $"closed max {closed.View.Ok.Latency.MaxMs} ms");
        Assert.True(closed.View.Ok.Latency.Percent99 < 1000, $"closed p99 {closed.View.Ok.Latency.Percent99} ms");
    }

    [Fact]
    public async Task Iterations_still_unanswered_when_the_drain_ends_fail_and_their_late_answers_change_nothing()
    {
        // A node that hangs every call from the 31st on, until the run has given up on it: the hung calls
        // must count as failed (the run fails its threshold), and their answers, coming while (or after)
        // the report is built, must neither break the report nor change its figures.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var completed = 0;
        var scenario = Scenario.Create("hangs", ctx => Step.Run("call", ctx, async () =>
        {
            if (Interlocked.Increment(ref calls) > 30) await release.Task;
            Interlocked.Increment(ref completed);
            return Response.Ok();
        })).WithLoadSimulations(Simulation.Inject(80, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500)))
            .WithThresholds(Threshold.Create(st => st.Fail.Request.Percent < 1, "fewer than 1% of requests fail"));
        var result = (await Runner.RunAsync([scenario], new RunOptions { Drain = TimeSpan.FromMilliseconds(50) }))[0];
        var started = result.Stats.Started;
        Assert.Equal(40, started);

        release.SetResult();
        var folder = Path.Combine(Path.GetTempPath(), "late-" + Guid.NewGuid().ToString("N"));
        Reports.WriteAll([result], folder, new RunInfo("hangs"));
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref completed) < started && deadline.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10);

        Assert.True(File.Exists(Path.Combine(folder, "report.json")));
        var (iterations, step) = (result.Stats.Iterations, result.Stats.StepNamed("call"));
        Assert.Equal((30, 10), (iterations.Ok, iterations.Fail));
        Assert.Equal((30, 10), (step.Ok, step.Fail));
        Assert.Equal(10, result.Stats.Unanswered);
        Assert.Equal("no answer within the drain (0.05 s after the load ended)", Assert.Single(iterations.FailMessages).Key);
        Assert.False(result.ThresholdsPassed);
        // Every one waited the drain at least: the latency of a hung call is no shorter than the wait it got.
        Assert.True(LatencyView.From(iterations.FailLatency).MinMs >= 50);
    }

    [Fact]
    public async Task The_achieved_rate_counts_what_completed_while_the_load_ran_not_the_backlog_answered_after_it()
    {
        // A node that serves one call at a time in 50 ms (20/s at most) under 40/s for 2 s: the backlog
        // is answered in the drain, all OK, but the node never sustained more than 20/s.
        var node = new SemaphoreSlim(1, 1);
        var scenario = Scenario.Create("slow", ctx => Step.Run("call", ctx, async () =>
        {
            await node.WaitAsync();
            try { await Task.Delay(50); }
            finally { node.Release(); }
            return Response.Ok();
        })).WithLoadSimulations(Simulation.Inject(40, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
        var result = (await Runner.RunAsync([scenario]))[0];

        Assert.Equal(80, result.Stats.Iterations.Ok); // every one answered, most in the drain
        Assert.True(result.AchievedRate <= 21, $"achieved {result.AchievedRate}/s of a node that serves 20/s");
        var report = RunReport.From([result], new RunInfo("slow"), DateTimeOffset.UnixEpoch).Scenarios[0];
        Assert.Equal(report.Rps, report.AchievedRps);
        Assert.Contains(report.Hints, h => h.Level == "warning" && h.Text.Contains("the system did not keep up", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_node_that_keeps_up_reads_its_target_whatever_its_latency()
    {
        // Every call answered in 500 ms, as many at once as are due: 40/s for 2 s is kept up with. Counted
        // over the whole load, the first half second (before any answer could come) read as a quarter less.
        var scenario = Scenario.Create("patient", ctx => Step.Run("call", ctx, async () =>
        {
            await Task.Delay(500);
            return Response.Ok();
        })).WithLoadSimulations(Simulation.Inject(40, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
        var result = (await Runner.RunAsync([scenario]))[0];

        Assert.Equal(80, result.Stats.Iterations.Ok);
        Assert.True(result.AchievedRate >= 36, $"achieved {result.AchievedRate}/s of 40/s, every call answered in 500 ms");
        var report = RunReport.From([result], new RunInfo("patient"), DateTimeOffset.UnixEpoch).Scenarios[0];
        Assert.DoesNotContain(report.Hints, h => h.Text.Contains("the system did not keep up", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("lean")]
    [InlineData("httpclient")]
    public async Task Service_time_starts_when_the_request_has_a_connection_not_while_it_waits_for_one(string client)
    {
        // Eight copies share one connection to a node that answers in 50 ms: each request waits for the
        // other seven, and that wait is the generator's queue, in latency but not in service time.
        await using var server = await FakeNode.StartAsync(healthDelay: TimeSpan.FromMilliseconds(50));
        var folder = Path.Combine(Path.GetTempPath(), "lt-" + Guid.NewGuid().ToString("N"));
        await Cli.RunAsync(["--scenario", "baseline", "--target", server.Url, "--copies", "8", "--connections", "1", "--client", client,
            "--duration", "1s", "--warmup", "0s", "--out", folder], new StringWriter(), new StringWriter());

        var scenario = RunReport.Read(folder).Scenarios.Single();
        Assert.True(scenario.Ok >= 8);
        foreach (var row in new StepReport[] { scenario, scenario.Steps.Single() })
        {
            Assert.True(row.ServiceTimeMs.P50 < 0.5 * row.LatencyMs.P50, $"{row.Name}: service time p50 {row.ServiceTimeMs.P50} ms, latency p50 {row.LatencyMs.P50} ms");
        }
    }

    [Fact]
    public async Task A_closed_model_s_console_line_names_the_model_not_a_target_of_0()
    {
        var scenario = Scenario.Create("seedlike", ctx => Task.FromResult(Response.Ok())).WithLoadSimulations(Simulation.IterationsForConstant(2, 4));
        var console = Reports.Console(await Runner.RunAsync([scenario]));

        Assert.Contains("scenario seedlike: ", console);
        Assert.Contains(", closed model, achieved ", console);
        Assert.DoesNotContain("target 0", console);
    }

    [Fact]
    public async Task The_report_names_the_second_a_stall_began_in()
    {
        // The stall runs from 0.5 s to 2.5 s: a call due at 0.5 s waits 2 s, one due at 1.5 s waits 1 s,
        // and the calls of the fourth second wait for nothing.
        var result = (await Runner.RunAsync([Stalling("stall", Simulation.Inject(200, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4)))]))[0];

        var json = Reports.Json([result], "stall")["scenarios"]![0]!["maxLatencyMsPerSecond"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
        // Seconds count from the run's start, a moment before the load's first instant: the last calls
        // may fall into a fifth second.
        Assert.InRange(json.Length, 4, 5);
        Assert.True(json[0] >= 1500, $"second 0: {json[0]} ms");
        Assert.True(json[0] > json[1] && json[1] > json[3], string.Join(", ", json));
        Assert.True(json[3] < 1000, $"second 3: {json[3]} ms");
        Assert.Contains("slowest second: 0 s into the run", Reports.Console([result]));
    }

    [Fact]
    public async Task Warm_up_runs_the_scenario_s_own_load_and_is_not_counted()
    {
        var calls = 0;
        var scenario = Scenario.Create("warm", ctx => { Interlocked.Increment(ref calls); return Task.FromResult(Response.Ok()); })
            .WithLoadSimulations(Simulation.Inject(100, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)))
            .WithWarmUpDuration(TimeSpan.FromSeconds(1));
        var result = (await Runner.RunAsync([scenario]))[0];

        Assert.Equal(100, result.Stats.Iterations.Ok);
        Assert.Equal(200, calls); // 100 in the warm-up at the same rate, 100 measured
    }

    [Fact]
    public async Task A_scenario_of_one_step_shows_the_same_latency_as_its_step()
    {
        // The generator's own work after the step's answer (recording it; the first time, compiling that
        // code) is no latency of the node: the iteration ends where its last step did.
        var scenario = Scenario.Create("one-step", async ctx =>
            {
                var response = await Step.Run("call", ctx, () => Task.FromResult(Response.Ok()));
                await Task.Delay(20, ctx.CancellationToken);
                return response;
            })
            .WithLoadSimulations(Simulation.IterationsForConstant(2, 10));
        var result = (await Runner.RunAsync([scenario]))[0];

        var (iterations, step) = (result.Stats.Iterations, result.Stats.StepNamed("call"));
        Assert.Equal(10, iterations.Ok);
        // The report's row (every request) and the console's (the OK ones): the same figures, p50 to max.
        Assert.Equal(LatencyView.From(step.Latency), LatencyView.From(iterations.Latency));
        Assert.Equal(LatencyView.From(step.OkLatency), LatencyView.From(iterations.OkLatency));
    }

    [Fact]
    public void Warm_up_is_the_first_part_of_the_load_shape()
    {
        var second = TimeSpan.FromSeconds(1);
        var ramp = Scenario.Create("ramp", ctx => Task.FromResult(Response.Ok()))
            .WithLoadSimulations(Simulation.RampingInject(200, second, 2 * second), Simulation.Inject(200, second, 10 * second));

        // Half the ramp: the rate it reached by then.
        Assert.Equal([new LoadSimulation.RampingInjectPhase(100, second, second)], Runner.WarmUpPhases(ramp.WithWarmUpDuration(second)));
        // The whole ramp, then the first second of the plateau.
        Assert.Equal(
            [new LoadSimulation.RampingInjectPhase(200, second, 2 * second), new LoadSimulation.InjectPhase(200, second, second)],
            Runner.WarmUpPhases(ramp.WithWarmUpDuration(3 * second)));
        // A fixed number of iterations warms up as the same workers for the warm-up's time.
        var fixedCount = Scenario.Create("fixed", ctx => Task.FromResult(Response.Ok()))
            .WithLoadSimulations(Simulation.IterationsForConstant(4, 50)).WithWarmUpDuration(2 * second);
        Assert.Equal([new LoadSimulation.KeepConstantPhase(4, 2 * second)], Runner.WarmUpPhases(fixedCount));
    }

    [Theory]
    [InlineData(100, 1, 100)]
    [InlineData(50, 2, 100)]
    public async Task Inject_intends_rate_times_duration_iterations(int rate, int seconds, long expected)
    {
        var scenario = Scenario.Create("count", ctx => Task.FromResult(Response.Ok()))
            .WithLoadSimulations(Simulation.Inject(rate, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(seconds)));
        var result = (await Runner.RunAsync([scenario]))[0];
        Assert.Equal(expected, result.Stats.Intended);
        Assert.Equal(expected, result.Stats.Iterations.Ok);
    }

    [Fact]
    public async Task Second_0_of_the_per_second_series_begins_when_the_first_iteration_is_due()
    {
        // 2,000/s for 1 s: iteration k is due k/2000 s into the load, so all 2,000 are due in second 0,
        // unless second 0 began before the load did and the last of them spill into second 1.
        var due = new System.Collections.Concurrent.ConcurrentBag<long>();
        var scenario = Scenario.Create("aligned", ctx =>
            {
                due.Add(ctx.IntendedStart);
                return Task.FromResult(Response.Ok());
            })
            .WithLoadSimulations(Simulation.Inject(2000, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        var result = (await Runner.RunAsync([scenario], new RunOptions { MaxSchedulerLagP99 = TimeSpan.FromHours(1), MinStartedShare = 0 }))[0];

        Assert.Equal(result.Stats.LoadStart, due.Min());
        Assert.Equal([2000L, 0L], result.Stats.IntendedPerSecond.Take(2));
        Assert.Equal(2000, result.Stats.Iterations.LatencyPerSecond[0]!.TotalCount); // by the second each was due
        Assert.Null(result.Stats.Iterations.LatencyPerSecond[1]);
    }

    [Fact]
    public async Task Ramping_inject_climbs_linearly_from_the_previous_rate()
    {
        // 0 -> 200/s over 1 s intends about 100 iterations (the area under the ramp), then 200 more at 200/s.
        var scenario = Scenario.Create("ramp", ctx => Task.FromResult(Response.Ok()))
            .WithLoadSimulations(Simulation.RampingInject(200, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)), Simulation.Inject(200, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        var result = (await Runner.RunAsync([scenario]))[0];
        Assert.InRange(result.Stats.Intended, 280, 320);
    }

    [Fact]
    public async Task Iterations_for_constant_runs_exactly_that_many_and_steps_have_their_own_stats()
    {
        var scenario = Scenario.Create("fixed", async ctx =>
            {
                await Step.Run("a", ctx, () => Task.FromResult(Response.Ok(sizeBytes: 10)));
                return await Step.Run("b", ctx, () => Task.FromResult(ctx.InvocationNumber % 2 == 0 ? Response.Ok() : Response.Fail(500, "odd")));
            })
            .WithLoadSimulations(Simulation.IterationsForConstant(4, 50))
            .WithThresholds(Threshold.Create("a", s => s.Fail.Request.Count == 0, "step a never fails"), Threshold.Create(s => s.Fail.Request.Percent < 1, "under 1% fail"));
        var result = (await Runner.RunAsync([scenario]))[0];
        var a = result.Stats.StepNamed("a");
        var b = result.Stats.StepNamed("b");
        Assert.Equal((50L, 0L, 500L), (a.Ok, a.Fail, a.Bytes));
        Assert.Equal(50, b.Ok + b.Fail);
        Assert.True(b.Fail > 0);
        Assert.Equal([true, false], result.Thresholds.Select(t => t.Passed));
    }

    [Fact]
    public void Zipf_prefers_low_ranks_and_stays_in_range()
    {
        var zipf = new Zipf(1000, 1.1);
        var random = new Random(42);
        var counts = new int[1000];
        for (var i = 0; i < 100_000; i++) counts[zipf.Sample(random)]++;
        Assert.True(counts[0] > counts[1] && counts[1] > counts[10] && counts[10] > counts[500]);
        Assert.True(counts[0] > 10_000);
    }

    [Theory]
    [InlineData(new[] { "--target", "http://x" }, "--scenario is required")]
    [InlineData(new[] { "--scenario", "lunch" }, "--scenario 'lunch'")]
    [InlineData(new[] { "--scenario", "checkout", "--rate", "abc" }, "--rate 'abc'")]
    [InlineData(new[] { "--scenario", "checkout", "--rate", "0" }, "--rate '0'")]
    [InlineData(new[] { "--scenario", "checkout", "--duration", "soon" }, "--duration 'soon'")]
    [InlineData(new[] { "--scenario", "checkout", "--target", "ftp://x" }, "--target 'ftp://x'")]
    [InlineData(new[] { "--scenario", "checkout", "--bogus", "1" }, "unknown option '--bogus'")]
    [InlineData(new[] { "--scenario", "checkout", "--rate" }, "--rate needs a value")]
    [InlineData(new[] { "--scenario", "checkout", "--rate", "--target", "http://127.0.0.1:5080" }, "--rate needs a value")]
    [InlineData(new[] { "--scenario", "checkout", "--scenario", "festival" }, "--scenario is given more than once")]
    [InlineData(new[] { "--scenario", "checkout", "--rate", "10", "--rate", "20" }, "--rate is given more than once")]
    [InlineData(new[] { "--scenario", "checkout", "--client", "curl" }, "--client 'curl'")]
    [InlineData(new[] { "--scenario", "festival", "--first-member", "-1" }, "--first-member '-1'")]
    [InlineData(new[] { "--scenario", "checkout", "--client", "lean", "--target", "https://x" }, "--client lean speaks plain HTTP only")]
    public void Bad_arguments_are_refused_naming_the_flag(string[] args, string expected)
    {
        var (parsed, error) = Cli.Parse(args);
        Assert.Null(parsed);
        Assert.StartsWith(expected, error);
    }

    [Fact]
    public void A_bad_scenario_is_answered_with_every_scenario_the_harness_runs()
    {
        var error = Cli.Parse(["--scenario", "lunch"]).Error ?? "";
        var named = error[(error.IndexOf("one of ", StringComparison.Ordinal) + 7)..].Split(", ");
        Assert.Contains("stream", named);
        foreach (var scenario in named) Assert.NotNull(Cli.Parse(["--scenario", scenario]).Args);
    }

    [Fact]
    public void Durations_read_as_people_write_them()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), Cli.ParseDuration("30s"));
        Assert.Equal(TimeSpan.FromMinutes(2), Cli.ParseDuration("2m"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), Cli.ParseDuration("500ms"));
        Assert.Equal(TimeSpan.FromSeconds(15), Cli.ParseDuration("15"));
        Assert.Null(Cli.ParseDuration("x"));
        Assert.Null(Cli.ParseDuration("Infinity"));
        Assert.Null(Cli.ParseDuration("1e300s"));
    }

    [Fact]
    public void Festival_batches_have_unique_event_ids_and_the_asked_size()
    {
        var settings = new LoadSettings { Target = new Uri("http://127.0.0.1:1"), BatchSize = 300, Members = 50, RunId = "t" };
        using var a = JsonDocument.Parse(MembershipScenarios.EventBatch(settings, 1, new Random(1)));
        using var b = JsonDocument.Parse(MembershipScenarios.EventBatch(settings, 2, new Random(1)));
        var ids = a.RootElement.GetProperty("events").EnumerateArray().Concat(b.RootElement.GetProperty("events").EnumerateArray())
            .Select(e => e.GetProperty("eventId").GetString()).ToList();
        Assert.Equal(600, ids.Count);
        Assert.Equal(600, ids.Distinct().Count());
    }

    [Fact]
    public void Festival_batches_address_the_members_from_the_first_member_on()
    {
        var (parsed, error) = Cli.Parse(["--scenario", "festival", "--members", "20", "--first-member", "10000"]);
        Assert.Null(error);
        var settings = parsed!.Settings with { RunId = "t" };
        using var batch = JsonDocument.Parse(MembershipScenarios.EventBatch(settings, 1, new Random(1)));
        var members = batch.RootElement.GetProperty("events").EnumerateArray()
            .Select(e => int.Parse(e.GetProperty("memberId").GetString()![1..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(members, m => Assert.InRange(m, 10_000, 10_019));
        Assert.Equal(20, members.Distinct().Count());
    }

    [Fact]
    public async Task A_failed_threshold_exits_2_and_every_report_is_written()
    {
        await using var server = await FakeNode.StartAsync();
        var folder = Path.Combine(Path.GetTempPath(), "lt-" + Guid.NewGuid().ToString("N"));
        var output = new StringWriter();
        var exit = await Cli.RunAsync(["--scenario", "baseline", "--target", server.Url, "--rate", "50", "--duration", "1s", "--warmup", "0s", "--max-p99", "0.0001", "--out", folder], output, new StringWriter());

        Assert.Equal(Cli.ThresholdsFailed, exit);
        foreach (var file in new[] { "report.json", "report.md", "report.html", "report.csv", "baseline.hgrm" })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        }
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
        var scenario = json.RootElement.GetProperty("scenarios")[0];
        Assert.Equal("baseline", scenario.GetProperty("name").GetString());
        Assert.Equal(50, scenario.GetProperty("ok").GetInt64());
        Assert.Equal(0, scenario.GetProperty("fail").GetInt64());
        foreach (var p in new[] { "p50", "p75", "p95", "p99", "p999", "max" }) Assert.True(scenario.GetProperty("latencyMs").GetProperty(p).GetDouble() > 0, p);
        Assert.True(scenario.GetProperty("bytes").GetInt64() > 0);
        Assert.True(scenario.GetProperty("rps").GetDouble() > 0);
        var thresholds = scenario.GetProperty("thresholds").EnumerateArray().ToDictionary(t => t.GetProperty("description").GetString()!, t => t.GetProperty("passed").GetBoolean());
        Assert.False(thresholds["p99 latency <= 0.0001 ms"]);
        Assert.True(thresholds["fewer than 1% of requests fail"]);
        Assert.Equal("healthz", scenario.GetProperty("steps")[0].GetProperty("name").GetString());
        var html = File.ReadAllText(Path.Combine(folder, "report.html"));
        Assert.Contains("data-chart=\"latency-by-percentile\"", html);
        Assert.Contains("data-chart=\"rate\"", html);
        Assert.Contains("FAILED: 1 of 2 thresholds failed", html);
        Assert.Contains("Value     Percentile TotalCount", File.ReadAllText(Path.Combine(folder, "baseline.hgrm")));
        Assert.Contains("threshold FAILED: p99 latency <= 0.0001 ms", output.ToString());
    }

    [Theory]
    [InlineData(21, 0, true)]
    [InlineData(20, 5, true)]
    [InlineData(20, 0, false)]
    [InlineData(15, 5, false)]
    public async Task A_checkout_reaching_past_the_seeded_members_warns_before_it_starts(int members, int first, bool warns)
    {
        await using var server = await FakeNode.StartAsync(seeded: 20);
        var folder = Path.Combine(Path.GetTempPath(), "lt-" + Guid.NewGuid().ToString("N"));
        var errors = new StringWriter();
        var exit = await Cli.RunAsync(["--scenario", "checkout", "--target", server.Url, "--members", members.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--first-member", first.ToString(System.Globalization.CultureInfo.InvariantCulture), "--rate", "20", "--duration", "1s", "--warmup", "0s", "--out", folder], new StringWriter(), errors);

        // The run itself may be flagged invalid on a busy machine (3); it must have run and reported.
        Assert.Contains(exit, new[] { 0, Cli.InvalidRun });
        var last = first + members - 1;
        var expected = $"warning: m{last} was never seeded: --members {members} from m{first} reaches past the seeded population";
        var report = Orleans.Membership.LoadTests.Harness.RunReport.Read(folder);
        if (warns)
        {
            // The warning comes before the first progress line of the run.
            var text = errors.ToString();
            Assert.StartsWith(expected, text);
            Assert.Contains($"--scenario seed --members {members}{(first > 0 ? $" --first-member {first}" : "")}", text);
            Assert.StartsWith($"m{last} was never seeded", Assert.Single(report.Warnings));
            Assert.Contains($"m{last} was never seeded", File.ReadAllText(Path.Combine(folder, "report.html")));
        }
        else
        {
            Assert.DoesNotContain("never seeded", errors.ToString());
            Assert.Empty(report.Warnings);
        }
        Assert.Equal($"{members} (m{first}..m{last})", report.Parameters["members"]);
    }

    [Fact]
    public async Task In_mixed_a_checkout_never_waits_for_a_connection_a_festival_batch_holds()
    {
        // The node holds every event batch until it has answered all 20 checks (or 10 s pass): with one
        // connection each, checks get through only if checkout has connections of its own.
        await using var server = await FakeNode.StartAsync(seeded: 10, holdBatchesUntilChecks: 20);
        var folder = Path.Combine(Path.GetTempPath(), "lt-" + Guid.NewGuid().ToString("N"));
        var exit = await Cli.RunAsync(["--scenario", "mixed", "--target", server.Url, "--members", "10", "--rate", "20", "--festival-rate", "2",
            "--batch", "10", "--connections", "1", "--duration", "1s", "--warmup", "0s", "--out", folder], new StringWriter(), new StringWriter());

        Assert.Contains(exit, new[] { 0, Cli.InvalidRun });
        Assert.True(server.BatchesReleasedByChecks, "the checks waited behind the held batch");
        var checkout = Orleans.Membership.LoadTests.Harness.RunReport.Read(folder).Scenarios.Single(x => x.Name == "checkout");
        Assert.Equal(20, checkout.Ok);
    }

    [Fact]
    public async Task A_festival_whose_events_the_node_rejects_fails_naming_the_first_reason_and_counts_the_events_it_applied()
    {
        // The node applies 9 events of each batch of 10 and rejects one.
        await using var server = await FakeNode.StartAsync(rejectEvents: true);
        var folder = Path.Combine(Path.GetTempPath(), "lt-" + Guid.NewGuid().ToString("N"));
        var output = new StringWriter();
        var exit = await Cli.RunAsync(["--scenario", "festival", "--target", server.Url, "--rate", "20", "--batch", "10",
            "--duration", "1s", "--warmup", "0s", "--out", folder], output, new StringWriter());

        Assert.Equal(Cli.ThresholdsFailed, exit);
        var festival = Orleans.Membership.LoadTests.Harness.RunReport.Read(folder).Scenarios.Single();
        Assert.Equal((0, 20), (festival.Ok, festival.Fail));
        Assert.Equal("HTTP 200 POST /v1/programs/default/events: events rejected (events[i].attributes.cups: is required for 'order.paid' ({m}))",
            festival.Failures.Single().Key);
        Assert.Equal(180, festival.Units["events"]);
        Assert.Equal(20, festival.Units["rejectedEvents"]);
        Assert.True(festival.Metrics["eventsPerSecond"] > 0);
        Assert.Equal(festival.Metrics["eventsPerSecond"] / 9, festival.Metrics["rejectedEventsPerSecond"], 3);
        Assert.Contains("events/s: ", output.ToString());
        Assert.DoesNotContain("events/s: 0.0", output.ToString());
    }

    [Fact]
    public void Ok_latency_is_the_OK_requests_alone_and_Fail_latency_the_failed_ones()
    {
        var start = Stopwatch.GetTimestamp();
        var m = new Measurements("x", start, 10);
        var ms = Stopwatch.Frequency / 1000;
        for (var i = 0; i < 90; i++) m.Record(start, start, start + 100 * ms, Response.Ok());
        for (var i = 0; i < 10; i++) m.Record(start, start, start + 1 * ms, Response.Fail(503, "down"));

        var view = StatsView.From(m, 1);
        Assert.InRange(view.Ok.Latency.MinMs, 99, 101); // fast failures do not pull the OK percentiles down
        Assert.InRange(view.Fail.Latency.MaxMs, 0.9, 1.1);
        Assert.Equal(100, m.Latency.TotalCount); // the report's own histogram still holds every request
    }

    [Fact]
    public async Task Help_lists_every_option_the_parser_accepts_and_every_exit_code()
    {
        var output = new StringWriter();
        Assert.Equal(0, await Cli.RunAsync(["--help"], output, new StringWriter()));
        var help = output.ToString();
        foreach (var option in Cli.Options) Assert.Contains($"  {option} ", help);
        foreach (var code in new[] { "0 ok", "1 the node could not be reached", "2 a threshold failed", "3 the generator fell behind", "64 bad arguments" }) Assert.Contains(code, help);
        Assert.Contains("compare A B", help);
        Assert.Contains("index DIR", help);
    }

    [Theory]
    [InlineData("festival")]
    [InlineData("seed")]
    public async Task An_event_scenario_runs_with_a_key_that_holds_only_the_ingest_role(string scenario)
    {
        await using var server = await FakeNode.StartAsync(keyRoles: "ingest");
        var folder = Path.Combine(Path.GetTempPath(), "lt-" + Guid.NewGuid().ToString("N"));
        var errors = new StringWriter();
        var exit = await Cli.RunAsync(["--scenario", scenario, "--target", server.Url, "--api-key", "k", "--members", "10", "--rate", "5", "--batch", "10",
            "--duration", "1s", "--warmup", "0s", "--out", folder], new StringWriter(), errors);

        Assert.True(exit is 0 or Cli.InvalidRun, $"exit {exit}: {errors}");
        Assert.True(RunReport.Read(folder).Scenarios.Single().Ok > 0);
    }

    [Theory]
    [InlineData("checkout", "ingest", "checkout")]
    [InlineData("festival", "checkout", "ingest")]
    public async Task A_key_without_the_scenarios_role_is_told_so_before_the_run(string scenario, string held, string needed)
    {
        await using var server = await FakeNode.StartAsync(keyRoles: held);
        var errors = new StringWriter();
        var exit = await Cli.RunAsync(["--scenario", scenario, "--target", server.Url, "--api-key", "k", "--rate", "5", "--duration", "1s", "--warmup", "0s",
            "--out", Path.Combine(Path.GetTempPath(), "lt-" + Guid.NewGuid().ToString("N"))], new StringWriter(), errors);

        Assert.Equal(Cli.Unreachable, exit);
        Assert.Contains($"does not hold the '{needed}' role", errors.ToString());
        Assert.DoesNotContain("is the node running", errors.ToString());
    }

    [Fact]
    public async Task A_key_the_node_does_not_know_is_told_so_before_the_run()
    {
        await using var server = await FakeNode.StartAsync(keyRoles: "ingest");
        var errors = new StringWriter();
        var exit = await Cli.RunAsync(["--scenario", "festival", "--target", server.Url, "--api-key", "wrong", "--rate", "5", "--duration", "1s", "--warmup", "0s",
            "--out", Path.Combine(Path.GetTempPath(), "lt-" + Guid.NewGuid().ToString("N"))], new StringWriter(), errors);

        Assert.Equal(Cli.Unreachable, exit);
        Assert.Contains("refused the API key (HTTP 401)", errors.ToString());
        Assert.Contains("'ingest' role", errors.ToString());
        Assert.DoesNotContain("is the node running", errors.ToString());
    }

    [Fact]
    public async Task Checkout_against_a_node_that_is_down_fails_fast_with_a_clear_error()
    {
        var errors = new StringWriter();
        var exit = await Cli.RunAsync(["--scenario", "checkout", "--target", "http://127.0.0.1:9", "--duration", "1s", "--out", Path.GetTempPath()], new StringWriter(), errors);
        Assert.Equal(1, exit);
        Assert.Contains("error:", errors.ToString());
    }
}

/// <summary>A tiny HTTP server on 127.0.0.1 that answers like a node: health, benefit checks, and the summaries of <c>seeded</c> members m0..m(seeded-1).</summary>
internal sealed class FakeNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _checksAnswered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _checks;
    private volatile bool _holdTimedOut;
    private FakeNode(WebApplication app) { _app = app; }
    public string Url { get; private set; } = "";
    /// <summary>With <c>holdBatchesUntilChecks</c>: the held batches were let go because the checks were all answered, not by the timeout.</summary>
    public bool BatchesReleasedByChecks => _checksAnswered.Task.IsCompleted && !_holdTimedOut;

    /// <param name="holdBatchesUntilChecks">event batches are answered only once this many benefit checks were (10 s at most); 0: at once</param>
    /// <param name="rejectEvents">event batches are answered as the node answers a batch whose first event it rejected</param>
    /// <param name="keyRoles">the roles of the one API key "k" (comma-separated), refused as the node refuses: 401 for another key, 403 without the role; null: open</param>
    /// <param name="healthDelay">how long each /healthz answer takes</param>
    public static async Task<FakeNode> StartAsync(int seeded = 0, int holdBatchesUntilChecks = 0, bool rejectEvents = false, string? keyRoles = null, TimeSpan healthDelay = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var node = new FakeNode(app);
        if (keyRoles is not null)
        {
            var held = keyRoles.Split(',');
            app.Use(async (context, next) =>
            {
                var path = context.Request.Path.Value ?? "";
                var role = path == "/healthz" ? null : path.EndsWith("/events", StringComparison.Ordinal) ? "ingest" : "checkout";
                var key = context.Request.Headers["X-Api-Key"].FirstOrDefault();
                int? status = role is null ? null : key != "k" ? 401 : Array.IndexOf(held, role) < 0 ? 403 : null;
                if (status is null)
                {
                    await next(context);
                    return;
                }
                context.Response.StatusCode = status.Value;
                context.Response.ContentType = "application/problem+json";
                await context.Response.WriteAsync(status == 401
                    ? "{\"status\":401,\"title\":\"Unauthorized\",\"detail\":\"send a valid API key in the X-Api-Key header\"}"
                    : $"{{\"status\":403,\"title\":\"Forbidden\",\"detail\":\"this API key does not hold the '{role}' role\"}}");
            });
        }
        app.MapGet("/healthz", async () =>
        {
            if (healthDelay > TimeSpan.Zero) await Task.Delay(healthDelay);
            return Results.Text("{\"status\":\"ok\"}", "application/json");
        });
        app.MapGet("/v1/programs/{p}/members/{m}/benefits", () => Results.Text("{\"benefits\":[]}", "application/json"));
        app.MapGet("/v1/programs/{p}/members/{m}/benefits/{code}", (string code) =>
        {
            if (Interlocked.Increment(ref node._checks) >= holdBatchesUntilChecks) node._checksAnswered.TrySetResult();
            return Results.Text($"{{\"code\":\"{code}\",\"entitled\":true}}", "application/json");
        });
        app.MapPost("/v1/programs/{p}/events", async (HttpRequest request) =>
        {
            // A batch of no events (the generator's pre-run check) applies nothing: answered at once, as the node does.
            using var body = await System.Text.Json.JsonDocument.ParseAsync(request.Body);
            if (body.RootElement.TryGetProperty("events", out var events) && events.GetArrayLength() == 0)
            {
                return Results.Text("{\"accepted\":0,\"duplicates\":0,\"rejected\":[]}", "application/json");
            }
            if (holdBatchesUntilChecks > 0 && await Task.WhenAny(node._checksAnswered.Task, Task.Delay(TimeSpan.FromSeconds(10))) != node._checksAnswered.Task)
            {
                node._holdTimedOut = true;
            }
            return Results.Text(rejectEvents
                ? "{\"accepted\":9,\"duplicates\":0,\"rejected\":[{\"index\":7,\"eventId\":\"e7\",\"error\":\"events[7].attributes.cups: is required for 'order.paid' (m42)\"}]}"
                : "{\"accepted\":10,\"duplicates\":0,\"rejected\":[]}", "application/json");
        });
        app.MapGet("/v1/programs/{p}/members/{m}", (string m) => int.TryParse(m[1..], out var n) && n < seeded
            ? Results.Text($"{{\"memberId\":\"{m}\"}}", "application/json")
            : Results.NotFound());
        await app.StartAsync();
        node.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
