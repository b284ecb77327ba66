using Microsoft.Extensions.DependencyInjection;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;
using Orleans.Storage;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Grains;

/// <summary>Notices nobody reads a member for: the due-time index and its sweepers.</summary>
[Collection(ClusterCollection.Name)]
public sealed class NoticeTests(ClusterFixture fixture)
{
    private static ScoringEvent Paid(string orderId, decimal amount, string at) => new($"{orderId}-paid", "order.paid", At(at), orderId, amount, null);

    /// <summary>Sweeps every shard, as the sweepers' timers do; returns the notices fired.</summary>
    private async Task<int> SweepAll()
    {
        var fired = 0;
        for (var shard = 0; shard < DueShards.Count; shard++) fired += await fixture.Grains.GetGrain<IDueSweeperGrain>(shard).SweepNow();
        return fired;
    }

    /// <summary>What the member's change ids start with: its id and when its first ledger entry was recorded.</summary>
    private static async Task<string> IdPrefix(string memberId)
        => MemberChanges.IdPrefix(memberId, MemberState.Replay(await ClusterFixture.Ledger.ReadAfterAsync(MemberKeys.Of("default", memberId), 0)));

    private Task<List<MemberChange>> ExpiringOf(IMemberGrain member, string memberId) => NoticesOf(member, memberId, MemberChangeTypes.PointsExpiring);

    /// <summary>The member's changes of <paramref name="type"/> on the program's feed (<see cref="ChangesOf"/>).</summary>
    private async Task<List<MemberChange>> NoticesOf(IMemberGrain member, string memberId, string type)
        => (await ChangesOf(member, memberId)).Where(c => c.Type == type).ToList();

    [Fact]
    public async Task Points_expiring_fires_once_per_bucket_sixty_days_before_it_expires()
    {
        var memberId = $"notice-{Guid.NewGuid():N}";
        var member = fixture.Grains.GetGrain<IMemberGrain>(MemberKeys.Of("default", memberId));
        var clock = ClusterFixture.Clock;
        var start = clock.Now;
        try
        {
            // Two buckets earned in 2026 expire at the end of 2027 (Asia/Shanghai): warned from 2027-11-01.
            await member.ApplyEvents([Paid("o1", 100m, "2026-05-01T10:00:00+08:00"), Paid("o2", 50m, "2026-06-01T10:00:00+08:00")]);
            var expiresAt = At("2028-01-01T00:00:00+08:00");

            clock.Now = expiresAt - TimeSpan.FromDays(61);
            await SweepAll();
            Assert.Empty(await ExpiringOf(member, memberId));

            clock.Now = expiresAt - TimeSpan.FromDays(59);
            await SweepAll();
            var warned = await ExpiringOf(member, memberId);
            Assert.Equal(2, warned.Count);
            Assert.All(warned, c => Assert.Equal(expiresAt, c.ExpiresAt));
            Assert.Equal(2, warned.Select(c => c.Id).Distinct().Count());
            Assert.Contains(warned, c => c.Points == 50);

            // Sweeping again, and a later write of the member, fire nothing more for those buckets.
            await SweepAll();
            await member.ApplyEvents([new("late-sign-in", "sign-in", clock.Now, null, null, null)]);
            await SweepAll();
            Assert.Equal(warned.Select(c => c.Id).Order(), (await ExpiringOf(member, memberId)).Select(c => c.Id).Order());

            // A late-reported order of 2026 makes a third bucket already inside the 60 days: the member is
            // woken at once, and only the new bucket is announced.
            var outcome = await member.ApplyEvents([Paid("o3", 30m, "2026-07-01T10:00:00+08:00")]);
            Assert.Equal(EventStatus.Accepted, outcome[0].Status);
            await SweepAll();
            var all = await ExpiringOf(member, memberId);
            Assert.Equal(3, all.Count);
            Assert.Equal(3, all.Select(c => c.Id).Distinct().Count());
        }
        finally
        {
            clock.Now = start;
        }
    }

    /// <summary>A member with points to redeem for the feed's marker, and a plan of <c>plus</c> bought or tried now.</summary>
    private async Task<(IMemberGrain Member, string MemberId, DateTimeOffset End)> WithPlan(string action, string? term)
    {
        var memberId = $"plan-{Guid.NewGuid():N}";
        var member = fixture.Grains.GetGrain<IMemberGrain>(MemberKeys.Of("default", memberId));
        await member.ApplyEvents([Paid("o1", 100m, "2026-11-20T10:00:00+08:00")]);
        var plan = await member.Subscribe(new SubscriptionRequest("s1", "plus", action, term, null));
        Assert.Equal(WriteStatus.Applied, plan.Status);
        return (member, memberId, plan.Value!.ExpiresAt!.Value);
    }

    [Fact]
    public async Task Plan_ended_fires_once_at_the_end_of_a_trial_nobody_bought()
    {
        var clock = ClusterFixture.Clock;
        var start = clock.Now;
        try
        {
            // A 7-day trial is warned of at once (7 days ahead); after that only its end wakes the member.
            var (member, memberId, end) = await WithPlan("trial", null);
            await SweepAll();
            Assert.Single(await NoticesOf(member, memberId, MemberChangeTypes.PlanExpiring));

            clock.Now = end.AddSeconds(-1);
            await SweepAll();
            Assert.Empty(await NoticesOf(member, memberId, MemberChangeTypes.PlanEnded));

            // Swept a day late (the node was down): announced once, dated at the end.
            clock.Now = end.AddDays(1);
            await SweepAll();
            var ended = Assert.Single(await NoticesOf(member, memberId, MemberChangeTypes.PlanEnded));
            Assert.Equal(($"{await IdPrefix(memberId)}:plan-ended:plus:{end.ToUnixTimeSeconds()}", "plus", end, end), (ended.Id, ended.Plan, ended.ExpiresAt, ended.OccurredAt));

            // Sweeping again, and a later write of the member, fire nothing more for that end.
            await SweepAll();
            await member.ApplyEvents([new("late-sign-in", "sign-in", clock.Now, null, null, null)]);
            await SweepAll();
            Assert.Single(await NoticesOf(member, memberId, MemberChangeTypes.PlanEnded));
        }
        finally
        {
            clock.Now = start;
        }
    }

    [Fact]
    public async Task A_renewal_before_the_end_announces_the_new_end_and_never_the_old_one()
    {
        var clock = ClusterFixture.Clock;
        var start = clock.Now;
        try
        {
            var (member, memberId, first) = await WithPlan("purchase", "P1M");
            clock.Now = first.AddDays(-1);
            await SweepAll();
            var renewal = await member.Subscribe(new SubscriptionRequest("s2", "plus", "purchase", "P1M", null));
            var renewed = renewal.Value!.ExpiresAt!.Value;
            Assert.True(renewed > first);

            clock.Now = first.AddHours(1);
            await SweepAll();
            Assert.Empty(await NoticesOf(member, memberId, MemberChangeTypes.PlanEnded));

            clock.Now = renewed;
            await SweepAll();
            await SweepAll();
            var ended = Assert.Single(await NoticesOf(member, memberId, MemberChangeTypes.PlanEnded));
            Assert.Equal(($"{await IdPrefix(memberId)}:plan-ended:plus:{renewed.ToUnixTimeSeconds()}", renewed), (ended.Id, ended.ExpiresAt));
        }
        finally
        {
            clock.Now = start;
        }
    }

    /// <summary>
    /// Every change of the member on the feed, read after a marker redemption: the member publishes in order,
    /// so once the marker is on the feed, every change before it is too.
    /// </summary>
    private async Task<List<MemberChange>> ChangesOf(IMemberGrain member, string memberId)
    {
        var markerId = $"marker-{Guid.NewGuid():N}";
        Assert.Equal(WriteStatus.Applied, (await member.Redeem(new RedemptionRequest(markerId, 1, null))).Status);
        var feed = fixture.Grains.GetGrain<IChangeFeedGrain>("default");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var page = await feed.Wait(0, ChangeFeedGrain.FeedCapacity, TimeSpan.FromMilliseconds(200));
            var mine = page.Items.Select(i => i.Change).Where(c => c.MemberId == memberId).ToList();
            if (mine.Any(c => c.CallerId == markerId)) return mine;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the marker of {memberId} never reached the feed");
        }
    }

    [Fact]
    public async Task A_member_created_again_after_erasure_never_repeats_a_change_id_and_a_reactivation_keeps_them()
    {
        var memberId = $"again-{Guid.NewGuid():N}";
        var key = MemberKeys.Of("default", memberId);
        var member = fixture.Grains.GetGrain<IMemberGrain>(key);
        var clock = ClusterFixture.Clock;
        var start = clock.Now;
        // The same history twice: the same seqs, the same caller ids; each announces a tier, a redemption, a plan and its warning.
        async Task Live()
        {
            await member.ApplyEvents([Paid("o1", 1000m, "2026-11-20T10:00:00+08:00")]);
            Assert.Equal(WriteStatus.Applied, (await member.Redeem(new RedemptionRequest("r1", 30, null))).Status);
            Assert.Equal(WriteStatus.Applied, (await member.Subscribe(new SubscriptionRequest("s1", "plus", "trial", null, null))).Status);
            Assert.Equal(1, await member.FireNotices());
        }
        try
        {
            await Live();
            var first = await ChangesOf(member, memberId);
            Assert.Subset(new HashSet<string> { MemberChangeTypes.TierChanged, MemberChangeTypes.PointsRedeemed, MemberChangeTypes.SubscriptionChanged, MemberChangeTypes.PlanExpiring }, first.Select(c => c.Type).ToHashSet());
            var warning = Assert.Single(first, c => c.Type == MemberChangeTypes.PlanExpiring);

            // A crash between publishing the warning and recording it, and a reactivation: it comes again, with the same id.
            await fixture.Cluster.DeactivateAsync(member.GetGrainId());
            await ClusterFixture.DueIndex.EraseAsync(key);
            Assert.Equal(1, await member.FireNotices());
            var again = await ChangesOf(member, memberId);
            Assert.Equal([warning.Id, warning.Id], again.Where(c => c.Type == MemberChangeTypes.PlanExpiring).Select(c => c.Id));

            // Erased, and a moment later the same id writes the same history: a new member whose ids are all new.
            await member.Erase();
            clock.Advance(TimeSpan.FromSeconds(1));
            await Live();
            var second = await ChangesOf(member, memberId);
            Assert.Equal(second.Count, second.Select(c => c.Id).Distinct().Count());
            Assert.Empty(second.Select(c => c.Id).Intersect(again.Select(c => c.Id)));
        }
        finally
        {
            clock.Now = start;
        }
    }

    [Fact]
    public async Task A_member_whose_snapshot_predates_the_first_entrys_instant_names_its_changes_by_its_ledger()
    {
        var memberId = $"upgraded-{Guid.NewGuid():N}";
        var key = MemberKeys.Of("default", memberId);
        var member = fixture.Grains.GetGrain<IMemberGrain>(key);
        await member.Enroll(new EnrollRequest("06-15"));
        await member.ApplyEvents([Paid("o1", 1000m, "2026-11-20T10:00:00+08:00")]);
        await fixture.Cluster.DeactivateAsync(member.GetGrainId());

        // A snapshot as a node before this state field stored it: rows folded, the first one's instant not kept.
        var entries = await ClusterFixture.Ledger.ReadAfterAsync(key, 0);
        var snapshots = fixture.Cluster.GetSiloServiceProvider().GetRequiredKeyedService<IGrainStorage>(StorageNames.Snapshots);
        await snapshots.WriteStateAsync("member", member.GetGrainId(), new GrainState<MemberState>(MemberState.Replay(entries.Skip(1))));

        var redeemed = Assert.Single(await ChangesOf(member, memberId), c => c.Type == MemberChangeTypes.PointsRedeemed);
        var seq = (await ClusterFixture.Ledger.ReadPageAsync(key, null, 1))[0].Seq;
        Assert.Equal($"{MemberChanges.IdPrefix(memberId, MemberState.Replay(entries))}:{seq}", redeemed.Id);
    }
}
