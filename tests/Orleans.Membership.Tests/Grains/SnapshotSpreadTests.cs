using Orleans.Membership.Abstractions;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Tests.Grains;

public sealed class SnapshotSpreadTests
{
    [Fact]
    public void Members_written_at_the_same_pace_take_their_snapshots_at_different_counts()
    {
        var keys = Enumerable.Range(0, 10_000).Select(i => MemberKeys.Of("default", $"m{i}")).ToList();
        var counts = keys.Select(MemberGrain.SnapshotAfter).ToList();

        Assert.All(counts, c => Assert.InRange(c, MemberGrain.SnapshotEvery, 2 * MemberGrain.SnapshotEvery - 1));
        // Spread over the whole window: no count is shared by more than 1% of members (an even spread is 0.4%),
        // and each quarter of the window holds about a quarter of them.
        Assert.True(counts.GroupBy(c => c).Max(g => g.Count()) <= keys.Count / 100);
        foreach (var quarter in counts.GroupBy(c => (c - MemberGrain.SnapshotEvery) * 4 / MemberGrain.SnapshotEvery))
        {
            Assert.InRange(quarter.Count(), keys.Count * 20 / 100, keys.Count * 30 / 100);
        }
        Assert.Equal(counts, keys.Select(MemberGrain.SnapshotAfter)); // the same member, the same count
    }
}
