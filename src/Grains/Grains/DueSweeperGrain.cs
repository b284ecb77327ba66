using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Grains;

/// <summary>How often the sweepers look for due notices.</summary>
public sealed class DueSweepOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Members woken at once by one sweeper.</summary>
    public int Concurrency { get; set; } = 16;
    /// <summary>
    /// Members one sweeper wakes in one sweep at most; the rest stay due for the next sweep. A backlog (the
    /// first sweep after a restore, a month-end when many buckets fall due together) then drains over
    /// several sweeps instead of filling the program's changes stream, which also carries tier changes.
    /// </summary>
    public int MaxMembersPerSweep { get; set; } = 2_000;
    /// <summary>
    /// Members one sweeper wakes per second at most: a sweep is background work, and members woken as fast as
    /// the silo can would hold back checkout answers. At the default a sweep of <see cref="MaxMembersPerSweep"/> takes 10 s.
    /// </summary>
    public int MembersPerSecond { get; set; } = 200;

    /// <summary>What is wrong with these settings, naming the setting (under <c>Membership:Notices</c>); null when nothing is.</summary>
    public string? Problem()
    {
        if (Interval <= TimeSpan.Zero) return $"Membership:Notices:Interval must be a positive duration (like 00:00:10), not {Interval}";
        if (Concurrency < 1) return $"Membership:Notices:Concurrency must be at least 1, not {Concurrency}";
        if (MaxMembersPerSweep < 1) return $"Membership:Notices:MaxMembersPerSweep must be at least 1, not {MaxMembersPerSweep}";
        if (MembersPerSecond < 1) return $"Membership:Notices:MembersPerSecond must be at least 1, not {MembersPerSecond}";
        return null;
    }
}

/// <summary>
/// One shard of the due-time index (<see cref="DueShards.Count"/> of them, keyed 0..n-1). A reminder
/// keeps it alive across restarts and failures; while active, a timer sweeps every
/// <see cref="DueSweepOptions.Interval"/>: each member with a notice due is asked to fire it.
/// </summary>
public sealed class DueSweeperGrain(IDueIndex index, TimeProvider clock, IOptions<DueSweepOptions> options, ILogger<DueSweeperGrain> logger)
    : Grain, IDueSweeperGrain, IRemindable
{
    public const int BatchSize = 500;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Without a stream provider a notice has nowhere to go: a member cannot fire it and stays due, so
        // sweeping would wake the same members every interval for nothing.
        if (ServiceProvider.GetKeyedService<Orleans.Streams.IStreamProvider>(ScoringStreams.Provider) is null) return Task.CompletedTask;
        this.RegisterGrainTimer(async stop =>
        {
            try
            {
                await Sweep(stop);
            }
            catch (Exception) when (stop.IsCancellationRequested || Stopping)
            {
                // The sweeper or the silo is going away; the members left stay due for the next sweep, wherever it runs.
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Due-time sweep of shard {Shard} failed; the next one goes on", this.GetPrimaryKeyLong());
            }
        }, new GrainTimerCreationOptions(options.Value.Interval, options.Value.Interval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    async Task IDueSweeperGrain.Start()
        => await this.RegisterOrUpdateReminder("due-sweep", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));

    Task IRemindable.ReceiveReminder(string reminderName, Orleans.Runtime.TickStatus status) => Task.CompletedTask;

    Task<int> IDueSweeperGrain.SweepNow() => Sweep(CancellationToken.None);

    private bool Stopping => ServiceProvider.GetService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>()?.ApplicationStopping.IsCancellationRequested == true;

    private async Task<int> Sweep(CancellationToken stop)
    {
        var (fired, failure) = await DueSweep.RunAsync(
            max => index.DueAsync((int)this.GetPrimaryKeyLong(), clock.GetUtcNow(), max),
            key => GrainFactory.Member(key).FireNotices(),
            options.Value, BatchSize, TimeProvider.System, wait => Task.Delay(wait, stop), stop);
        if (failure is not null)
        {
            throw new InvalidOperationException(
                $"the sweep stopped after {fired} notices at the first member that could not fire (the others stay due for the next sweep): {failure.Message}",
                failure);
        }
        return fired;
    }
}

/// <summary>One sweep of a due-time shard, apart from the grain that runs it.</summary>
internal static class DueSweep
{
    /// <summary>The pace of a sweep: members are woken in slices of a tenth of a second's worth.</summary>
    internal static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Wakes the members <paramref name="due"/> lists (asked for at most <paramref name="batchSize"/> at a
    /// time), <see cref="DueSweepOptions.Concurrency"/> at once and at most
    /// <see cref="DueSweepOptions.MembersPerSecond"/> (a slice per <see cref="Tick"/>, then
    /// <paramref name="pause"/> for what is left of it, as <paramref name="time"/> measures it: real time,
    /// not the program's clock), until none is due or
    /// <see cref="DueSweepOptions.MaxMembersPerSweep"/> were woken. At the first member that cannot fire
    /// (its stream refused the notice: the queue is full) no further member is woken in this sweep:
    /// hammering a full queue only adds refusals, each logged with its stack by the stream provider, and
    /// the members left stay due. Returns the notices fired and the first failure, if any; throws
    /// <see cref="OperationCanceledException"/> when <paramref name="stop"/> is cancelled (between slices).
    /// </summary>
    public static async Task<(int Fired, Exception? Failure)> RunAsync(
        Func<int, Task<IReadOnlyList<string>>> due, Func<string, Task<int>> fire, DueSweepOptions options, int batchSize, TimeProvider time, Func<TimeSpan, Task> pause, CancellationToken stop = default)
    {
        if (options.Problem() is { } problem) throw new ArgumentException(problem, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var slice = Math.Max(1, (int)(options.MembersPerSecond * Tick.TotalSeconds));
        var fired = 0;
        var woken = 0;
        var sliceStarted = time.GetTimestamp();
        var inSlice = 0;
        while (woken < options.MaxMembersPerSweep)
        {
            var asked = Math.Min(batchSize, options.MaxMembersPerSweep - woken);
            string[] keys = [.. await due(asked)];
            if (keys.Length == 0) return (fired, null);
            woken += keys.Length;
            for (var from = 0; from < keys.Length;)
            {
                if (inSlice == slice)
                {
                    var left = Tick - time.GetElapsedTime(sliceStarted);
                    if (left > TimeSpan.Zero) await pause(left);
                    sliceStarted = time.GetTimestamp();
                    inSlice = 0;
                }
                stop.ThrowIfCancellationRequested();
                var count = Math.Min(slice - inSlice, keys.Length - from);
                var (sliceFired, failure) = await FireAll(new ArraySegment<string>(keys, from, count), fire, options.Concurrency);
                fired += sliceFired;
                if (failure is not null) return (fired, failure);
                from += count;
                inSlice += count;
            }
            // Each member moved its own due time past now; a batch smaller than asked for was the last.
            if (keys.Length < asked) return (fired, null);
        }
        return (fired, null);
    }

    /// <summary><paramref name="concurrency"/> workers take the keys in turn; after a failure none takes another.</summary>
    internal static async Task<(int Fired, Exception? Failure)> FireAll(IReadOnlyList<string> keys, Func<string, Task<int>> fire, int concurrency)
    {
        var next = -1;
        var fired = 0;
        Exception? failure = null;
        async Task Worker()
        {
            while (Volatile.Read(ref failure) is null)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= keys.Count) return;
                try
                {
                    Interlocked.Add(ref fired, await fire(keys[i]));
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }
        }
        var workers = new Task[Math.Min(concurrency, keys.Count)];
        for (var w = 0; w < workers.Length; w++) workers[w] = Worker();
        await Task.WhenAll(workers);
        return (fired, failure);
    }
}
