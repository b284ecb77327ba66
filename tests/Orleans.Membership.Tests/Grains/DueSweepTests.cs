using Orleans.Membership.Grains;

namespace Orleans.Membership.Tests.Grains;

/// <summary>
/// One sweep of a due-time shard: how many members it wakes, how many at once, and what it does when a
/// member cannot fire (its changes stream refused the notice).
/// </summary>
public sealed class DueSweepTests
{
    /// <summary>Time that does not pass while a slice is woken: every pause is a whole tick.</summary>
    private sealed class FrozenTime : TimeProvider
    {
        public override long GetTimestamp() => 0;
    }

    private static readonly TimeProvider Frozen = new FrozenTime();

    /// <summary>A shard's index: members due, in order; a member that fired is no longer due.</summary>
    private sealed class FakeShard(int members)
    {
        public readonly SortedSet<string> Due = new(Enumerable.Range(0, members).Select(i => $"m{i:D5}"), StringComparer.Ordinal);
        public readonly List<string> Fired = [];
        public Func<string, bool> Refuses = _ => false;

        public Task<IReadOnlyList<string>> DueAsync(int max) => Task.FromResult<IReadOnlyList<string>>(Due.Take(max).ToList());

        public Task<int> Fire(string key)
        {
            if (Refuses(key)) return Task.FromException<int>(new InvalidOperationException($"the queue refused {key}"));
            Due.Remove(key);
            Fired.Add(key);
            return Task.FromResult(1);
        }

        /// <summary>Pauses asked for, and the members woken before each.</summary>
        public readonly List<(TimeSpan Pause, int FiredBefore)> Pauses = [];

        public Task<(int Fired, Exception? Failure)> Sweep(int maxMembers, int membersPerSecond = 1_000_000)
            => DueSweep.RunAsync(DueAsync, Fire, new DueSweepOptions { Concurrency = 16, MaxMembersPerSweep = maxMembers, MembersPerSecond = membersPerSecond }, batchSize: 500, Frozen, Pause);

        private Task Pause(TimeSpan wait)
        {
            Pauses.Add((wait, Fired.Count));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_backlog_drains_over_several_sweeps_of_at_most_the_members_allowed()
    {
        var shard = new FakeShard(5_000);

        Assert.Equal((2_000, (Exception?)null), await shard.Sweep(maxMembers: 2_000));
        Assert.Equal(3_000, shard.Due.Count);
        Assert.Equal((2_000, (Exception?)null), await shard.Sweep(maxMembers: 2_000));
        Assert.Equal((1_000, (Exception?)null), await shard.Sweep(maxMembers: 2_000));
        Assert.Equal((0, (Exception?)null), await shard.Sweep(maxMembers: 2_000));
        Assert.Empty(shard.Due);
        Assert.Equal(5_000, shard.Fired.Distinct().Count());
    }

    [Fact]
    public async Task After_a_refusal_no_further_member_is_woken_and_the_next_sweep_fires_the_rest_once()
    {
        var shard = new FakeShard(1_200);
        var refusals = 0;
        shard.Refuses = key => key == "m00003" && refusals++ == 0;

        var (fired, failure) = await shard.Sweep(maxMembers: 2_000);

        // Members complete at once here, so one worker has taken m00000..m00003 when the refusal comes.
        Assert.Equal(3, fired);
        Assert.Equal("the queue refused m00003", failure?.Message);
        Assert.Equal(["m00000", "m00001", "m00002"], shard.Fired);
        Assert.Equal(1_197, shard.Due.Count);

        Assert.Equal((1_197, (Exception?)null), await shard.Sweep(maxMembers: 2_000));
        Assert.Empty(shard.Due);
        Assert.Equal(1_200, shard.Fired.Count);
        Assert.Equal(1_200, shard.Fired.Distinct().Count());
    }

    [Fact]
    public async Task At_most_the_concurrency_are_woken_at_once()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = 0;
        var most = 0;
        var keys = Enumerable.Range(0, 10).Select(i => $"m{i}").ToList();

        var sweep = DueSweep.FireAll(keys, async key =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref most, now);
            await gate.Task;
            Interlocked.Decrement(ref inFlight);
            return 1;
        }, concurrency: 3);
        Assert.Equal(3, Volatile.Read(ref inFlight));
        gate.SetResult();

        Assert.Equal((10, (Exception?)null), await sweep);
        Assert.Equal(3, most);
    }

    [Fact]
    public async Task A_sweep_wakes_members_in_slices_of_a_tenth_of_a_seconds_worth_pausing_between_them()
    {
        var shard = new FakeShard(1_000);

        Assert.Equal((1_000, (Exception?)null), await shard.Sweep(maxMembers: 2_000, membersPerSecond: 200));

        // 200 a second: slices of 20, each after a pause of what the slice left of a tenth of a second (all of
        // it here: time is frozen while a slice is woken).
        Assert.Equal(Enumerable.Range(1, 49).Select(i => i * 20), shard.Pauses.Select(p => p.FiredBefore));
        Assert.All(shard.Pauses, p => Assert.Equal(DueSweep.Tick, p.Pause));
        Assert.Empty(shard.Due);
    }

    [Fact]
    public async Task A_stopped_sweep_wakes_no_further_member()
    {
        var shard = new FakeShard(1_000);
        using var stop = new CancellationTokenSource();
        var options = new DueSweepOptions { MaxMembersPerSweep = 2_000, MembersPerSecond = 200 };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DueSweep.RunAsync(shard.DueAsync, shard.Fire, options, 500, Frozen, _ =>
        {
            stop.Cancel();
            return Task.CompletedTask;
        }, stop.Token));

        Assert.Equal(20, shard.Fired.Count);
        Assert.Equal(980, shard.Due.Count);
    }

    [Fact]
    public async Task Bad_settings_are_refused_naming_them()
    {
        var shard = new FakeShard(1);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => shard.Sweep(maxMembers: 0));
        Assert.StartsWith("Membership:Notices:MaxMembersPerSweep must be at least 1", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => shard.Sweep(maxMembers: 10, membersPerSecond: 0));
        Assert.StartsWith("Membership:Notices:MembersPerSecond must be at least 1", e.Message);
    }

    [Theory]
    [InlineData("Interval", "00:00:00")]
    [InlineData("Concurrency", "0")]
    [InlineData("MaxMembersPerSweep", "-1")]
    [InlineData("MembersPerSecond", "0")]
    public void A_node_with_a_bad_notices_setting_is_refused_naming_it(string setting, string value)
    {
        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Orleans.Membership.Silo.MembershipNode.Build(
            ["--urls", "http://127.0.0.1:0", $"--Membership:Notices:{setting}={value}"]));
        Assert.StartsWith($"Membership:Notices:{setting} must be", e.Message);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}
