using System.Runtime.CompilerServices;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>The outcome of one step or iteration (NBomber: <c>Response.Ok()</c> / <c>Response.Fail()</c>).</summary>
/// <param name="Body">the answer's text when the request asked to keep it (an event batch's counts), else null</param>
/// <param name="Units">what the answer counted, by unit (festival: events the node applied and rejected), whether it is OK or failed; null: nothing</param>
public sealed record Response(bool IsOk, int StatusCode, long SizeBytes, string? Message, string? Body = null, IReadOnlyDictionary<string, long>? Units = null)
{
    public static Response Ok(int statusCode = 200, long sizeBytes = 0, string? body = null) => new(true, statusCode, sizeBytes, null, body);
    public static Response Fail(int statusCode = 0, string? message = null, long sizeBytes = 0) => new(false, statusCode, sizeBytes, message);
}

/// <summary>What one iteration of a scenario sees (NBomber: <c>IScenarioContext</c>).</summary>
public sealed class ScenarioContext
{
    private StepInFlight? _openStep;

    internal ScenarioContext(string scenarioName, long invocationNumber, long intendedStart, long start, ScenarioStats stats, Random random, CancellationToken token)
    {
        ScenarioName = scenarioName;
        InvocationNumber = invocationNumber;
        IntendedStart = intendedStart;
        Start = start;
        Stats = stats;
        Random = random;
        CancellationToken = token;
    }

    public string ScenarioName { get; }
    public long InvocationNumber { get; }
    public Random Random { get; }
    public CancellationToken CancellationToken { get; }

    /// <summary>When the scheduler meant this iteration to start (Stopwatch ticks): latency is measured from it.</summary>
    internal long IntendedStart { get; }
    /// <summary>When the iteration actually started (Stopwatch ticks).</summary>
    internal long Start { get; }
    internal ScenarioStats Stats { get; }
    internal bool FirstStepDone { get; set; }
    /// <summary>When the latest step's answer came (Stopwatch ticks); 0 before any step.</summary>
    internal long LastStepEnd { get; set; }
    /// <summary>Where the first step's service time began (Stopwatch ticks), the iteration's too; 0 before any step.</summary>
    internal long FirstServiceStart { get; set; }

    internal void OpenStep(StepInFlight step) => Volatile.Write(ref _openStep, step);

    /// <summary>The step under way, once: whoever takes it (its answer, or the drain's end) records it.</summary>
    internal StepInFlight? TakeOpenStep() => Interlocked.Exchange(ref _openStep, null);
}

/// <summary>A step waiting for its answer: where it is recorded, its latency's start and its own start (Stopwatch ticks).</summary>
internal sealed record StepInFlight(Measurements Stats, long From, long Start);

/// <summary>
/// Where a step's service time starts: when its request got one of the generator's connections, so the
/// wait for one is the generator's queue, not the server's time. A transport calls <see cref="Connected"/>
/// once it holds a connection; a step whose action never does is timed from its own start.
/// </summary>
public static class ServiceClock
{
    private static readonly AsyncLocal<StrongBox<long>?> s_step = new();

    /// <summary>Starts the clock of the step about to run on this flow (Step.Run's own async flow: it does not leak to the caller).</summary>
    internal static StrongBox<long> ForStep() => s_step.Value = new StrongBox<long>();

    public static void Connected()
    {
        if (s_step.Value is { } clock) clock.Value = System.Diagnostics.Stopwatch.GetTimestamp();
    }
}

/// <summary>A named, measured part of an iteration (NBomber: <c>Step.Run</c>).</summary>
public static class Step
{
    public static async Task<Response> Run(string name, ScenarioContext context, Func<Task<Response>> action)
    {
        var stats = context.Stats.StepNamed(name);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        // The first step carries the wait for its intended start: that is what a user would have felt.
        var from = context.FirstStepDone ? start : context.IntendedStart;
        context.FirstStepDone = true;
        var connected = ServiceClock.ForStep();
        context.OpenStep(new StepInFlight(stats, from, start));
        Response response;
        try
        {
            response = await action();
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            response = Response.Fail(message: e.GetType().Name + ": " + e.Message);
        }
        var end = System.Diagnostics.Stopwatch.GetTimestamp();
        context.LastStepEnd = end;
        var serviceStart = connected.Value != 0 ? connected.Value : start;
        if (context.FirstServiceStart == 0) context.FirstServiceStart = serviceStart;
        if (context.Stats.Enter())
        {
            try
            {
                if (context.TakeOpenStep() is not null) stats.Record(from, serviceStart, end, response);
            }
            finally
            {
                context.Stats.Exit();
            }
        }
        return response;
    }
}

/// <summary>How load is applied over time (NBomber: <c>Simulation.*</c>).</summary>
public abstract record LoadSimulation(TimeSpan During)
{
    /// <summary>Open model: <paramref name="Rate"/> iterations per <paramref name="Interval"/>, whatever the system's speed.</summary>
    public sealed record InjectPhase(int Rate, TimeSpan Interval, TimeSpan During) : LoadSimulation(During);
    /// <summary>Open model: the rate moves linearly from the previous phase's rate to <paramref name="Rate"/>.</summary>
    public sealed record RampingInjectPhase(int Rate, TimeSpan Interval, TimeSpan During) : LoadSimulation(During);
    /// <summary>Closed model: <paramref name="Copies"/> workers, each starting its next iteration when the last ends.</summary>
    public sealed record KeepConstantPhase(int Copies, TimeSpan During) : LoadSimulation(During);
    /// <summary>Closed model: <paramref name="Copies"/> workers share <paramref name="Iterations"/> iterations.</summary>
    public sealed record IterationsForConstantPhase(int Copies, int Iterations) : LoadSimulation(TimeSpan.Zero);
    public sealed record PausePhase(TimeSpan During) : LoadSimulation(During);
}

public static class Simulation
{
    public static LoadSimulation Inject(int rate, TimeSpan interval, TimeSpan during) => new LoadSimulation.InjectPhase(Positive(rate, nameof(rate)), interval, during);
    public static LoadSimulation RampingInject(int rate, TimeSpan interval, TimeSpan during) => new LoadSimulation.RampingInjectPhase(Math.Max(0, rate), interval, during);
    public static LoadSimulation KeepConstant(int copies, TimeSpan during) => new LoadSimulation.KeepConstantPhase(Positive(copies, nameof(copies)), during);
    public static LoadSimulation IterationsForConstant(int copies, int iterations) => new LoadSimulation.IterationsForConstantPhase(Positive(copies, nameof(copies)), Positive(iterations, nameof(iterations)));
    public static LoadSimulation Pause(TimeSpan during) => new LoadSimulation.PausePhase(during);

    private static int Positive(int value, string name) => value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be greater than 0");
}

/// <summary>A pass/fail rule over a scenario's or a step's statistics (NBomber: <c>Threshold.Create</c>).</summary>
public sealed record Threshold(string? StepName, string Description, Func<StatsView, bool> Check)
{
    public static Threshold Create(Func<StatsView, bool> check, string description) => new(null, description, check);
    public static Threshold Create(string stepName, Func<StatsView, bool> check, string description) => new(stepName, description, check);
}

/// <summary>A scenario: init, the iteration, clean, its load and its thresholds (NBomber: <c>Scenario.Create</c>).</summary>
public sealed class Scenario
{
    private Scenario(string name, Func<ScenarioContext, Task<Response>> run)
    {
        Name = name;
        Run = run;
    }

    public string Name { get; }
    public Func<ScenarioContext, Task<Response>> Run { get; }
    public Func<CancellationToken, Task>? Init { get; private set; }
    public Func<CancellationToken, Task>? Clean { get; private set; }
    public IReadOnlyList<LoadSimulation> Simulations { get; private set; } = [Simulation.KeepConstant(1, TimeSpan.FromSeconds(10))];
    public IReadOnlyList<Threshold> Thresholds { get; private set; } = [];
    public TimeSpan WarmUp { get; private set; } = TimeSpan.Zero;
    /// <summary>Open model: iterations in flight beyond this make the scheduler wait (and the run count as behind).</summary>
    public int MaxInFlight { get; private set; } = 20_000;
    /// <summary>Extra numbers a scenario reports per OK iteration (e.g. events per seed batch for events/s); answers may count their own (<see cref="Response.Units"/>).</summary>
    public Dictionary<string, double> UnitsPerOkIteration { get; } = [];

    public static Scenario Create(string name, Func<ScenarioContext, Task<Response>> run) => new(name, run);

    public Scenario WithInit(Func<CancellationToken, Task> init) { Init = init; return this; }
    public Scenario WithClean(Func<CancellationToken, Task> clean) { Clean = clean; return this; }
    public Scenario WithLoadSimulations(params LoadSimulation[] simulations) { Simulations = simulations; return this; }
    public Scenario WithThresholds(params Threshold[] thresholds) { Thresholds = thresholds; return this; }
    public Scenario WithWarmUpDuration(TimeSpan duration) { WarmUp = duration; return this; }
    public Scenario WithMaxInFlight(int max) { MaxInFlight = max; return this; }
    /// <summary>Reports <paramref name="name"/>/s as units × OK iterations per second (festival: events/s).</summary>
    public Scenario WithUnitsPerIteration(string name, double units) { UnitsPerOkIteration[name] = units; return this; }
}
