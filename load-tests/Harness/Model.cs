namespace Orleans.Membership.LoadTests.Harness;

/// <summary>The outcome of one step or iteration (NBomber: <c>Response.Ok()</c> / <c>Response.Fail()</c>).</summary>
/// <param name="Body">the answer's text when the request asked to keep it (an event batch's counts), else null</param>
public sealed record Response(bool IsOk, int StatusCode, long SizeBytes, string? Message, string? Body = null)
{
    public static Response Ok(int statusCode = 200, long sizeBytes = 0, string? body = null) => new(true, statusCode, sizeBytes, null, body);
    public static Response Fail(int statusCode = 0, string? message = null, long sizeBytes = 0) => new(false, statusCode, sizeBytes, message);
}

/// <summary>What one iteration of a scenario sees (NBomber: <c>IScenarioContext</c>).</summary>
public sealed class ScenarioContext
{
    internal ScenarioContext(string scenarioName, long invocationNumber, long intendedStart, ScenarioStats stats, Random random, CancellationToken token)
    {
        ScenarioName = scenarioName;
        InvocationNumber = invocationNumber;
        IntendedStart = intendedStart;
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
    internal ScenarioStats Stats { get; }
    internal bool FirstStepDone { get; set; }
    /// <summary>When the latest step's answer came (Stopwatch ticks); 0 before any step.</summary>
    internal long LastStepEnd { get; set; }
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
        stats.Record(from, start, end, response);
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
    /// <summary>Extra numbers a scenario reports (e.g. events per iteration for events/s).</summary>
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
