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
        this.RegisterGrainTimer(async _ =>
        {
            try
            {
                await Sweep();
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Due-time sweep of shard {Shard} failed; the next one retries", this.GetPrimaryKeyLong());
            }
        }, (object?)null, new GrainTimerCreationOptions(options.Value.Interval, options.Value.Interval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    async Task IDueSweeperGrain.Start()
        => await this.RegisterOrUpdateReminder("due-sweep", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));

    Task IRemindable.ReceiveReminder(string reminderName, Orleans.Runtime.TickStatus status) => Task.CompletedTask;

    Task<int> IDueSweeperGrain.SweepNow() => Sweep();

    private async Task<int> Sweep()
    {
        var shard = (int)this.GetPrimaryKeyLong();
        var fired = 0;
        while (true)
        {
            var due = await index.DueAsync(shard, clock.GetUtcNow(), BatchSize);
            if (due.Count == 0) return fired;
            using var gate = new SemaphoreSlim(options.Value.Concurrency);
            var counts = await Task.WhenAll(due.Select(async key =>
            {
                await gate.WaitAsync();
                try
                {
                    return await GrainFactory.Member(key).FireNotices();
                }
                finally
                {
                    gate.Release();
                }
            }));
            fired += counts.Sum();
            // Each member moved its own due time past now; a batch smaller than asked for was the last.
            if (due.Count < BatchSize) return fired;
        }
    }
}
