using System.Globalization;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Tests.Support;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Domain;

/// <summary>The plan-ended notice of the default program's <c>plus</c> (trial 7 days, plan-expiring 7 days ahead), on the pure domain.</summary>
public sealed class MemberNoticesTests
{
    private static MemberNotice? Ended(MemberHarness m, DateTimeOffset now)
        => MemberNotices.All(m.Program, "m", m.State, now).SingleOrDefault(n => n.Change.Type == MemberChangeTypes.PlanEnded);

    /// <summary>What the member's change ids start with: its id and when its first entry was recorded.</summary>
    private static string Prefix(MemberHarness m) => MemberChanges.IdPrefix("m", m.State);

    private static string Unix(DateTimeOffset t) => t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void A_plan_ended_notice_falls_due_at_the_plans_end_with_the_end_in_its_id()
    {
        var m = new MemberHarness(TestPrograms.Default);
        var end = m.Plan("purchase", term: "P1M").Value!.ExpiresAt!.Value;

        var ended = Ended(m, m.Now)!;
        Assert.Equal(end, ended.DueAt);
        Assert.Equal(($"{Prefix(m)}:plan-ended:plus:{Unix(end)}", "plus", end, end), (ended.Change.Id, ended.Change.Plan, ended.Change.ExpiresAt, ended.Change.OccurredAt));
        // The warning before it keeps its id.
        var expiring = Assert.Single(MemberNotices.All(m.Program, "m", m.State, m.Now), n => n.Change.Type == MemberChangeTypes.PlanExpiring);
        Assert.Equal(($"{Prefix(m)}:plan:plus:{Unix(end)}", end.AddDays(-7)), (expiring.Change.Id, expiring.DueAt));
    }

    [Fact]
    public void The_index_is_armed_for_the_end_once_the_warning_is_past_and_not_after_the_end()
    {
        var m = new MemberHarness(TestPrograms.Default);
        var end = m.Plan("purchase", term: "P1M").Value!.ExpiresAt!.Value;

        Assert.Equal(end.AddDays(-7), MemberNotices.Next(m.Program, m.State, m.Now, [], []));
        Assert.Equal(end, MemberNotices.Next(m.Program, m.State, end.AddDays(-7), [], []));
        Assert.Equal(end, MemberNotices.Next(m.Program, m.State, end.AddSeconds(-1), [], []));
        Assert.Null(MemberNotices.Next(m.Program, m.State, end, [], []));
    }

    [Fact]
    public void A_trial_and_a_cancelled_plan_end_at_their_end_too()
    {
        var trial = new MemberHarness(TestPrograms.Default);
        var trialEnd = trial.Plan("trial").Value!.ExpiresAt!.Value;
        Assert.Equal(trialEnd, Ended(trial, trial.Now)!.DueAt);

        var cancelled = new MemberHarness(TestPrograms.Default);
        var end = cancelled.Plan("purchase", term: "P1Y").Value!.ExpiresAt!.Value;
        cancelled.Now = cancelled.Now.AddDays(30);
        Assert.False(cancelled.Plan("cancel").Value!.AutoRenew);
        Assert.Equal((end, $"{Prefix(cancelled)}:plan-ended:plus:{Unix(end)}"), (Ended(cancelled, cancelled.Now)!.DueAt, Ended(cancelled, cancelled.Now)!.Change.Id));
    }

    [Fact]
    public void A_renewal_before_the_end_moves_the_notice_to_the_new_end()
    {
        var m = new MemberHarness(TestPrograms.Default);
        var first = m.Plan("purchase", term: "P1M").Value!.ExpiresAt!.Value;
        m.Now = first.AddDays(-1);
        var renewed = m.Plan("purchase", term: "P1M").Value!.ExpiresAt!.Value;
        Assert.True(renewed > first);

        // At the old end nothing of it is due: its key no longer exists, so it can never fire.
        var notices = MemberNotices.All(m.Program, "m", m.State, first);
        Assert.DoesNotContain(notices, n => n.Key.EndsWith(Unix(first), StringComparison.Ordinal));
        Assert.Equal((renewed, $"{Prefix(m)}:plan-ended:plus:{Unix(renewed)}"), (Ended(m, first)!.DueAt, Ended(m, first)!.Change.Id));
        Assert.Equal(renewed.AddDays(-7), MemberNotices.Next(m.Program, m.State, first, [], []));
    }

    [Fact]
    public void A_plan_that_ended_long_ago_is_one_notice_and_does_not_wake_the_member_unless_written()
    {
        var m = new MemberHarness(TestPrograms.Default);
        var end = m.Plan("trial").Value!.ExpiresAt!.Value;
        m.Now = end.AddYears(1);

        // Once the member is woken for something else it is announced once (one end per plan), dated at the end.
        var ended = Assert.Single(MemberNotices.All(m.Program, "m", m.State, m.Now));
        Assert.Equal((MemberChangeTypes.PlanEnded, end), (ended.Change.Type, ended.DueAt));
        // A write that is not of the plan does not arm the index for it; a write of the plan does, at once.
        Assert.Null(MemberNotices.Next(m.Program, m.State, m.Now, [], []));
        Assert.Equal(end, MemberNotices.Next(m.Program, m.State, m.Now, [], ["plus"]));
    }
}
