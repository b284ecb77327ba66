namespace Orleans.Membership.Abstractions;

/// <summary>A sweeper of one shard of the due-time index (points-expiring, plan-expiring, plan-ended notices).</summary>
[Alias("due-sweeper")]
public interface IDueSweeperGrain : IGrainWithIntegerKey
{
    /// <summary>Registers the reminder that keeps the sweeper running; idempotent.</summary>
    [Alias("start")] Task Start();

    /// <summary>Sweeps now (operators, tests); returns how many notices fired.</summary>
    [Alias("sweep-now")] Task<int> SweepNow();
}
