using System.Diagnostics;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>The result of one scenario in a run.</summary>
public sealed record ScenarioResult(
    Scenario Scenario,
    ScenarioStats Stats,
    double DurationSeconds,
    double TargetRate,
    bool Valid,
    string? InvalidReason,
    IReadOnlyList<(Threshold Threshold, bool Passed)> Thresholds)
{
    public bool ThresholdsPassed => Thresholds.All(t => t.Passed);
    /// <summary>The machine's cores and this generator while the run's load ran (all its scenarios together); null off Linux.</summary>
    public CpuUse? Cpu { get; init; }
    public StatsView View => StatsView.From(Stats.Iterations, DurationSeconds);
    /// <summary>
    /// OK iterations completed while the load ran, per second of it (NBomber's <c>ok.request.rps</c>): a refused
    /// request is no throughput, and neither is a backlog answered in the drain after the load.
    /// </summary>
    public double AchievedRate => View.Ok.Request.RPS;
    /// <summary>Failed iterations completed while the load ran, per second of it (NBomber's <c>fail.request.rps</c>).</summary>
    public double FailedRate => View.Fail.Request.RPS;
}

public sealed record RunOptions
{
    /// <summary>The generator is behind when p99 of its own start lag exceeds this.</summary>
    public TimeSpan MaxSchedulerLagP99 { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>... or when it started fewer than this share of the iterations it should have.</summary>
    public double MinStartedShare { get; init; } = 0.95;
    /// <summary>How long iterations still in flight may finish after the load ends.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>A hard bound on closed-model iteration phases that have no duration.</summary>
    public TimeSpan MaxIterationsPhase { get; init; } = TimeSpan.FromMinutes(10);
    public TextWriter? Progress { get; init; }
}

/// <summary>
/// Runs scenarios side by side. Open-model phases compute every iteration's intended start and measure
/// latency from it, so a stalled system cannot hide behind a generator that waits for it (no
/// coordinated omission). Closed-model phases measure throughput at a fixed concurrency.
/// </summary>
public static class Runner
{
    /// <summary>
    /// How far ahead the load's start is set, so that setting up (the histograms, the first CPU sample,
    /// the scheduler threads) falls in no second of the run and makes no iteration late.
    /// </summary>
    private static readonly TimeSpan StartLead = TimeSpan.FromMilliseconds(100);

    public static Task<IReadOnlyList<ScenarioResult>> RunAsync(IReadOnlyList<Scenario> scenarios, RunOptions? options = null, CancellationToken cancellationToken = default)
        // The scheduler and iterations run on the thread pool, never on a caller's synchronization
        // context (a UI's, a test framework's): one that serializes continuations would add lag.
        => Task.Run(() => RunOnPool(scenarios, options ?? new RunOptions(), cancellationToken), cancellationToken);

    private static async Task<IReadOnlyList<ScenarioResult>> RunOnPool(IReadOnlyList<Scenario> scenarios, RunOptions options, CancellationToken cancellationToken)
    {
        foreach (var s in scenarios)
        {
            if (s.Init is not null) await s.Init(cancellationToken);
        }
        // Warm-up runs each scenario's own load shape for its warm-up duration, all at once, and throws
        // the numbers away: connections, threads and compiled code are then what the measured load needs.
        await Task.WhenAll(scenarios.Where(s => s.WarmUp > TimeSpan.Zero).Select(s =>
        {
            var warmStart = Stopwatch.GetTimestamp() + Ticks(StartLead);
            var warm = new ScenarioStats(s.Name, warmStart, (int)Math.Ceiling(s.WarmUp.TotalSeconds) + (int)options.Drain.TotalSeconds + 2);
            return RunPhases(s, WarmUpPhases(s), warm, warmStart, options, cancellationToken);
        }));

        // Every scenario's first iteration is due at loadStart, and second 0 of every per-second series begins there.
        var loadStart = Stopwatch.GetTimestamp() + Ticks(StartLead);
        var seconds = scenarios.Max(s => (int)Math.Ceiling(PlannedDuration(s, options).TotalSeconds)) + (int)options.Drain.TotalSeconds + 2;
        var stats = scenarios.Select(s => new ScenarioStats(s.Name, loadStart, seconds)).ToList();
        using var progressStop = new CancellationTokenSource();
        var progress = options.Progress is { } writer ? ReportProgress(writer, stats, loadStart, progressStop.Token) : Task.CompletedTask;

        var cpuBefore = CpuUse.Take();
        var runs = scenarios.Select((s, i) => RunPhases(s, s.Simulations, stats[i], loadStart, options, cancellationToken)).ToList();
        var durations = await Task.WhenAll(runs);
        var cpu = CpuUse.Between(cpuBefore, CpuUse.Take());
        await progressStop.CancelAsync();
        await progress;

        var results = new List<ScenarioResult>();
        for (var i = 0; i < scenarios.Count; i++)
        {
            var s = scenarios[i];
            var st = stats[i];
            var duration = durations[i];
            var target = st.Intended > 0 ? st.Intended / duration : 0;
            string? invalid = null;
            if (st.Intended > 0)
            {
                var lagP99 = st.SchedulerLag.TotalCount == 0 ? 0 : st.SchedulerLag.GetValueAtPercentile(99) / 1000.0;
                if (lagP99 > options.MaxSchedulerLagP99.TotalMilliseconds)
                {
                    invalid = $"the generator fell behind: p99 start lag {lagP99:0.0} ms > {options.MaxSchedulerLagP99.TotalMilliseconds:0} ms";
                }
                else if (st.Started < options.MinStartedShare * st.Intended)
                {
                    invalid = $"the generator started {st.Started} of {st.Intended} intended iterations";
                }
            }
            var view = StatsView.From(st.Iterations, duration);
            var checks = s.Thresholds.Select(t =>
            {
                var subject = t.StepName is null ? view : StatsView.From(st.StepNamed(t.StepName), duration);
                bool passed;
                try { passed = t.Check(subject); }
                catch (Exception) { passed = false; }
                return (t, passed);
            }).ToList();
            results.Add(new ScenarioResult(s, st, duration, target, invalid is null, invalid, checks) { Cpu = cpu });
        }

        foreach (var s in scenarios)
        {
            if (s.Clean is not null) await s.Clean(cancellationToken);
        }
        return results;
    }

    private static TimeSpan PlannedDuration(Scenario s, RunOptions options)
        => s.Simulations.Aggregate(TimeSpan.Zero, (sum, p) => sum + (p is LoadSimulation.IterationsForConstantPhase ? options.MaxIterationsPhase : p.During));

    /// <summary>
    /// The first <see cref="Scenario.WarmUp"/> of the scenario's load: phases in order, the last one cut
    /// short (a ramp at the rate it would have reached); a fixed number of iterations becomes the same
    /// copies for the time left.
    /// </summary>
    internal static IReadOnlyList<LoadSimulation> WarmUpPhases(Scenario s)
    {
        var phases = new List<LoadSimulation>();
        var left = s.WarmUp;
        var previousRate = 0.0;
        foreach (var phase in s.Simulations)
        {
            if (left <= TimeSpan.Zero) break;
            var take = phase.During < left ? phase.During : left;
            switch (phase)
            {
                case LoadSimulation.IterationsForConstantPhase p:
                    phases.Add(new LoadSimulation.KeepConstantPhase(p.Copies, left));
                    return phases;
                case LoadSimulation.RampingInjectPhase p:
                    var to = p.Rate / p.Interval.TotalSeconds;
                    var reached = p.During > TimeSpan.Zero ? previousRate + (to - previousRate) * (take / p.During) : to;
                    phases.Add(new LoadSimulation.RampingInjectPhase((int)Math.Round(reached), TimeSpan.FromSeconds(1), take));
                    previousRate = to;
                    break;
                case LoadSimulation.InjectPhase p:
                    phases.Add(p with { During = take });
                    previousRate = p.Rate / p.Interval.TotalSeconds;
                    break;
                case LoadSimulation.KeepConstantPhase p:
                    phases.Add(p with { During = take });
                    break;
                case LoadSimulation.PausePhase p:
                    phases.Add(p with { During = take });
                    break;
            }
            left -= take;
        }
        return phases;
    }

    /// <summary>Runs the phases in order, the first from <paramref name="start"/> (Stopwatch ticks); returns the measured duration in seconds.</summary>
    private static async Task<double> RunPhases(Scenario s, IReadOnlyList<LoadSimulation> phases, ScenarioStats stats, long start, RunOptions options, CancellationToken ct)
    {
        var inFlight = new InFlight(s.MaxInFlight);
        var previousRate = 0.0;
        var phaseStart = start;
        foreach (var phase in phases)
        {
            switch (phase)
            {
                case LoadSimulation.InjectPhase p:
                    previousRate = p.Rate / p.Interval.TotalSeconds;
                    await RunOpen(s, stats, inFlight, IntendedTimes.Constant(previousRate), phaseStart, p.During, ct);
                    break;
                case LoadSimulation.RampingInjectPhase p:
                    var to = p.Rate / p.Interval.TotalSeconds;
                    await RunOpen(s, stats, inFlight, IntendedTimes.Ramp(previousRate, to, p.During.TotalSeconds), phaseStart, p.During, ct);
                    previousRate = to;
                    break;
                case LoadSimulation.KeepConstantPhase p:
                    await RunClosed(s, stats, p.Copies, phaseStart, p.During, int.MaxValue, ct);
                    break;
                case LoadSimulation.IterationsForConstantPhase p:
                    await RunClosed(s, stats, p.Copies, phaseStart, options.MaxIterationsPhase, p.Iterations, ct);
                    break;
                case LoadSimulation.PausePhase p:
                    await Task.Delay(Until(phaseStart + Ticks(p.During)), ct);
                    break;
            }
            // A later phase starts where the one before it ended.
            phaseStart = Stopwatch.GetTimestamp();
        }
        var loadEnd = Stopwatch.GetTimestamp();
        // Rates count the completions of the load's duration over it; the drain's completions count in the totals only.
        stats.EndLoad(loadEnd);
        await inFlight.Drain(options.Drain);
        // What is still in flight after the drain fails (every started iteration is counted once); its answer, if it comes, is not counted.
        stats.Close(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no answer within the drain ({options.Drain.TotalSeconds:0.###} s after the load ended)"));
        return Stopwatch.GetElapsedTime(start, loadEnd).TotalSeconds;
    }

    /// <summary>
    /// Open model: iteration k of the phase is intended at <paramref name="intendedAt"/>(k) seconds after
    /// <paramref name="phaseStart"/> (Stopwatch ticks). A thread of its own starts every iteration whose instant has come, then sleeps
    /// until the next one is due (see <see cref="Pause"/>): it neither waits behind the iterations
    /// in the thread pool's queue nor spins a core the system under test shares.
    /// </summary>
    internal static Task RunOpen(Scenario s, ScenarioStats stats, InFlight inFlight, Func<long, double> intendedAt, long phaseStart, TimeSpan during, CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Schedule(s, stats, inFlight, intendedAt, phaseStart, during, ct);
                if (ct.IsCancellationRequested) done.TrySetCanceled(ct);
                else done.TrySetResult();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { done.TrySetCanceled(ct); }
            catch (Exception e) { done.TrySetException(e); }
        })
        { IsBackground = true, Name = "open-model scheduler: " + s.Name };
        thread.Start();
        return done.Task;
    }

    private static void Schedule(Scenario s, ScenarioStats stats, InFlight inFlight, Func<long, double> intendedAt, long phaseStart, TimeSpan during, CancellationToken ct)
    {
        var end = phaseStart + Ticks(during);
        long k = 0;
        var nextAt = intendedAt(0); // seconds since phase start
        var random = new Random();
        while (!ct.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            var elapsed = Stopwatch.GetElapsedTime(phaseStart, now).TotalSeconds;
            while (nextAt <= elapsed && nextAt < during.TotalSeconds)
            {
                var intended = phaseStart + (long)(nextAt * Stopwatch.Frequency);
                stats.CountIntended(intended);
                if (!inFlight.TryEnter())
                {
                    Interlocked.Increment(ref stats.WaitedForInFlightCap);
                    inFlight.Wait(ct);
                }
                stats.SchedulerLag.RecordValue(Math.Max(1, Measurements.Micros(Stopwatch.GetTimestamp() - intended)));
                Interlocked.Increment(ref stats.Started);
                _ = RunIteration(s, stats, intended, random.Next(), inFlight, ct);
                nextAt = intendedAt(++k);
            }
            // The phase lasts its whole duration after its last iteration too: rates are counted over it.
            // Before phaseStart elapsed is negative: nothing is due yet, and the thread sleeps until it.
            if (now >= end) return;
            var wait = Math.Min(nextAt - elapsed, Stopwatch.GetElapsedTime(now, end).TotalSeconds);
            Pause.For(Math.Min(wait, 0.05));
        }
    }

    /// <summary>Closed model: from <paramref name="start"/> each copy runs iterations back to back; latency is service time plus any wait for a connection.</summary>
    internal static async Task RunClosed(Scenario s, ScenarioStats stats, int copies, long start, TimeSpan during, int iterations, CancellationToken ct)
    {
        await Task.Delay(Until(start), ct);
        var end = start + Ticks(during);
        var remaining = (long)iterations;
        var workers = Enumerable.Range(0, copies).Select(async copy =>
        {
            var random = new Random(copy * 7919 + Environment.TickCount);
            while (!ct.IsCancellationRequested && Stopwatch.GetTimestamp() < end && Interlocked.Decrement(ref remaining) >= 0)
            {
                await RunIteration(s, stats, Stopwatch.GetTimestamp(), random.Next(), null, ct);
            }
        });
        await Task.WhenAll(workers);
    }

    private static long s_invocations;

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>The time left until <paramref name="instant"/> (Stopwatch ticks); zero once it has passed.</summary>
    private static TimeSpan Until(long instant)
    {
        var now = Stopwatch.GetTimestamp();
        return instant > now ? Stopwatch.GetElapsedTime(now, instant) : TimeSpan.Zero;
    }

    private static async Task RunIteration(Scenario s, ScenarioStats stats, long intended, int seed, InFlight? inFlight, CancellationToken ct)
    {
        try
        {
            await Task.Yield();
            var start = Stopwatch.GetTimestamp();
            var context = new ScenarioContext(s.Name, Interlocked.Increment(ref s_invocations), intended, start, stats, new Random(seed), ct);
            stats.Begin(context);
            Response response;
            try
            {
                response = await s.Run(context);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                response = Response.Fail(message: e.GetType().Name + ": " + e.Message);
            }
            // The iteration ends at its last step's answer and its service time starts where its first step's did:
            // recording (the first time, compiling the recording code) is the generator's own time, and a
            // one-step scenario shows its step's figures.
            var end = context.LastStepEnd != 0 ? context.LastStepEnd : Stopwatch.GetTimestamp();
            if (stats.Enter())
            {
                try
                {
                    if (stats.Settle(context)) stats.Iterations.Record(intended, context.FirstServiceStart != 0 ? context.FirstServiceStart : start, end, response);
                }
                finally
                {
                    stats.Exit();
                }
            }
        }
        finally
        {
            inFlight?.Exit();
        }
    }

    private static async Task ReportProgress(TextWriter writer, IReadOnlyList<ScenarioStats> stats, long loadStart, CancellationToken ct)
    {
        var last = stats.Select(s => (s.Iterations.Ok, s.Iterations.Fail)).ToArray();
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(1000, ct); }
            catch (OperationCanceledException) { return; }
            var parts = stats.Select((s, i) =>
            {
                var (ok, fail) = (s.Iterations.Ok, s.Iterations.Fail);
                var (okRate, failRate) = (ok - last[i].Ok, fail - last[i].Fail);
                last[i] = (ok, fail);
                return $"{s.Name}: {okRate} ok/s{(failRate > 0 ? $", {failRate} failed/s" : "")} (ok {ok} fail {fail})";
            });
            await writer.WriteLineAsync($"[{Stopwatch.GetElapsedTime(loadStart).TotalSeconds,5:0}s] {string.Join(" | ", parts)}");
        }
    }
}

/// <summary>When the k-th iteration of an open-model phase is due: where the cumulative count reaches k.</summary>
internal static class IntendedTimes
{
    public static Func<long, double> Constant(double ratePerSecond)
        => k => ratePerSecond > 0 ? k / ratePerSecond : double.PositiveInfinity;

    /// <summary>Rate a + b·t over [0, D]: the count is a·t + b·t²/2, inverted for each k.</summary>
    public static Func<long, double> Ramp(double from, double to, double seconds)
    {
        var b = (to - from) / seconds;
        if (Math.Abs(b) < 1e-12) return Constant(from);
        return k =>
        {
            var disc = from * from + 2 * b * k;
            return disc < 0 ? double.PositiveInfinity : (-from + Math.Sqrt(disc)) / b;
        };
    }
}

/// <summary>Iterations in flight, capped so a stalled system cannot make the generator exhaust memory.</summary>
internal sealed class InFlight(int max)
{
    private readonly SemaphoreSlim _slots = new(max, max);
    public bool TryEnter() => _slots.Wait(0);
    public void Wait(CancellationToken ct) => _slots.Wait(ct);
    public void Exit() => _slots.Release();

    public async Task Drain(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (_slots.CurrentCount < max && Stopwatch.GetTimestamp() < deadline) await Task.Delay(5);
    }
}

/// <summary>
/// The scheduler's sleep. <see cref="Thread.Sleep(int)"/> counts whole milliseconds (and sleeps a little
/// longer); on Linux a shorter wait sleeps half a millisecond through nanosleep, so an iteration starts
/// within about half a millisecond of its instant. Finer sleeps measured worse: at 13,000 iterations/s
/// the generator woke for one or two iterations at a time and took CPU from the node it measures.
/// </summary>
internal static partial class Pause
{
    private const long ShortestNanoseconds = 500_000;
    private static readonly bool s_fine = OperatingSystem.IsLinux();

    public static void For(double seconds)
    {
        if (s_fine && seconds < 0.002)
        {
            var spec = new TimeSpec { Seconds = 0, Nanoseconds = Math.Max(ShortestNanoseconds, (long)(seconds * 1e9)) };
            nanosleep(in spec, IntPtr.Zero);
            return;
        }
        Thread.Sleep(Math.Clamp((int)(seconds * 1000), 1, 50));
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = false)]
    private static partial int nanosleep(in TimeSpec duration, IntPtr remaining);
}
