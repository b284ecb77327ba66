using CsCheck;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Tests.Support;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Domain;

/// <summary>Plan actions dated in the past and arriving out of order, on the default program's <c>plus</c> (trial 7 days, orders x2).</summary>
public sealed class BackDatedPlanTests
{
    private static readonly DateTimeOffset Today = At("2026-12-06T12:00:00+08:00");

    private static MemberHarness NewMember()
    {
        var m = new MemberHarness(TestPrograms.Default) { Now = Today, Bounded = true };
        m.Enroll();
        return m;
    }

    private static List<(DateTimeOffset Start, DateTimeOffset End, bool IsTrial)> Periods(MemberHarness m)
        => [.. m.State.Plan("plus")!.Terms.Select(t => (t.Start, t.End, t.IsTrial)).OrderBy(p => p.Start)];

    /// <summary>The <c>subscription</c> entry of an action, as the statement shows it.</summary>
    private static LedgerEntry Entry(MemberHarness m, string id) => m.Ledger.Single(e => e.Kind == LedgerKinds.Subscription && e.EventId == id);

    private static long PointsOfOrder(MemberHarness m, string orderId, string occurredAt)
    {
        m.Paid(orderId, 100m, occurredAt);
        return m.Ledger.Last(e => e.Kind == LedgerKinds.Earn).Points;
    }

    [Fact]
    public void A_purchase_dated_before_a_recorded_later_one_starts_at_its_date_and_its_orders_earn_the_plus_factor()
    {
        var m = NewMember();
        m.Plan("purchase", "P1M", "2026-12-01T00:00:00+08:00", id: "s1");
        m.Plan("purchase", "P1M", "2026-10-01T00:00:00+08:00", id: "s2");

        Assert.Equal((At("2026-10-01T00:00:00+08:00"), At("2026-12-31T00:00:00+08:00")), (Entry(m, "s2").PlanStartsAt, Entry(m, "s2").PlanExpiresAt));
        Assert.Equal(
            // Months are counted on the UTC calendar, as before.
            [(At("2026-10-01T00:00:00+08:00"), At("2026-10-31T00:00:00+08:00"), false), (At("2026-12-01T00:00:00+08:00"), At("2026-12-31T00:00:00+08:00"), false)],
            Periods(m));
        Assert.True(m.State.PlanActiveAt("plus", At("2026-10-15T10:00:00+08:00")));
        Assert.False(m.State.PlanActiveAt("plus", At("2026-11-15T10:00:00+08:00")));

        var plain = NewMember();
        Assert.Equal(2 * PointsOfOrder(plain, "o1", "2026-10-15T10:00:00+08:00"), PointsOfOrder(m, "o1", "2026-10-15T10:00:00+08:00"));
        Assert.Equal(PointsOfOrder(plain, "o2", "2026-11-15T10:00:00+08:00"), PointsOfOrder(m, "o2", "2026-11-15T10:00:00+08:00"));
    }

    [Fact]
    public void Any_arrival_order_of_back_dated_purchases_gives_the_same_plan_summary_statement_and_notices()
    {
        // Up to four purchases, P1M or P1Y, dated at whole days since 2026-01-01 (overlapping or not), in any arrival order.
        Gen.Select(Gen.Select(Gen.Int[0, 339], Gen.Int[0, 5]).Array[1, 4], Gen.Int).Sample((dated, seed) =>
        {
            var actions = dated.Select((d, i) => (Id: $"s{i}", Term: d.Item2 == 0 ? "P1Y" : "P1M", At: At("2026-01-01T00:00:00+08:00").AddDays(d.Item1))).ToList();
            var inDateOrder = NewMember();
            foreach (var a in actions.OrderBy(a => a.At).ThenBy(a => a.Term, StringComparer.Ordinal)) inDateOrder.Plan("purchase", a.Term, a.At, id: a.Id);
            var shuffled = NewMember();
            foreach (var a in actions.OrderBy(a => HashCode.Combine(a.Id, seed))) shuffled.Plan("purchase", a.Term, a.At, id: a.Id);

            Assert.Equal(Periods(inDateOrder), Periods(shuffled));
            Assert.Equal(inDateOrder.Summary().Subscription, shuffled.Summary().Subscription);
            Assert.Equal(Notices(inDateOrder), Notices(shuffled));
            // Each term is whole, none overlaps the next, and the first starts at the earliest date.
            var terms = shuffled.State.Plan("plus")!.Terms.OrderBy(t => t.Start).ToList();
            Assert.Equal(actions.Min(a => a.At), terms[0].Start);
            for (var i = 0; i < terms.Count; i++)
            {
                Assert.Equal(terms[i].Start.AddMonths(terms[i].Term == "P1Y" ? 12 : 1), terms[i].End);
                if (i > 0) Assert.True(terms[i].Start >= terms[i - 1].End);
            }
            // The statement replays to the same plan.
            Assert.Equal(Periods(shuffled), MemberState.Replay(shuffled.Ledger).Plan("plus")!.Terms.Select(t => (t.Start, t.End, t.IsTrial)).OrderBy(p => p.Start).ToList());
        }, iter: 300);
    }

    private static List<string> Notices(MemberHarness m)
        => [.. MemberNotices.All(m.Program, "m", m.State, m.Now).Select(n => $"{n.Key} {n.DueAt:O}").Order(StringComparer.Ordinal)];

    [Fact]
    public void A_back_dated_term_that_overlaps_a_recorded_later_one_pushes_it_back_whole_as_a_renewal_would()
    {
        var late = NewMember();
        late.Plan("purchase", "P1M", "2026-12-01T00:00:00+08:00", id: "s1");
        late.Plan("purchase", "P1M", "2026-11-15T00:00:00+08:00", id: "s2");
        var inOrder = NewMember();
        inOrder.Plan("purchase", "P1M", "2026-11-15T00:00:00+08:00", id: "s2");
        inOrder.Plan("purchase", "P1M", "2026-12-01T00:00:00+08:00", id: "s1");

        List<(DateTimeOffset, DateTimeOffset, bool)> expected =
            [(At("2026-11-15T00:00:00+08:00"), At("2026-12-15T00:00:00+08:00"), false), (At("2026-12-15T00:00:00+08:00"), At("2027-01-15T00:00:00+08:00"), false)];
        Assert.Equal(expected, Periods(late));
        Assert.Equal(expected, Periods(inOrder));
        Assert.Equal(At("2027-01-15T00:00:00+08:00"), Entry(late, "s2").PlanExpiresAt);
        Assert.Equal(("active", At("2027-01-15T00:00:00+08:00")), (late.Summary().Subscription!.Status, late.Summary().Subscription!.ExpiresAt!.Value));
    }

    [Fact]
    public void A_trial_dated_before_any_term_began_is_granted_and_one_dated_inside_a_term_is_refused()
    {
        var m = NewMember();
        m.Plan("purchase", "P1M", "2026-12-01T00:00:00+08:00", id: "s1");

        var inside = m.Plan("trial", at: "2026-12-03T00:00:00+08:00", id: "t0");
        Assert.Equal((WriteStatus.Conflict, "active"), (inside.Status, inside.Reason));

        var trial = m.Plan("trial", at: "2026-10-01T00:00:00+08:00", id: "t1");
        Assert.Equal(WriteStatus.Applied, trial.Status);
        Assert.Equal(("active", true), (trial.Value!.Status, trial.Value.TrialUsed));
        Assert.Equal((At("2026-10-01T00:00:00+08:00"), At("2026-10-08T00:00:00+08:00"), true), Periods(m)[0]);
        Assert.Equal((WriteStatus.Conflict, "trial-used"), (m.Plan("trial", at: "2026-11-01T00:00:00+08:00", id: "t2").Status, m.Plan("trial", at: "2026-11-01T00:00:00+08:00", id: "t2").Reason));
    }

    [Fact]
    public void A_trial_dated_just_before_a_recorded_purchase_keeps_its_days_and_the_purchase_follows_it()
    {
        var m = NewMember();
        m.Plan("purchase", "P1M", "2026-12-01T00:00:00+08:00", id: "s1");
        m.Plan("trial", at: "2026-11-28T00:00:00+08:00", id: "t1");

        Assert.Equal(
            [(At("2026-11-28T00:00:00+08:00"), At("2026-12-05T00:00:00+08:00"), true), (At("2026-12-05T00:00:00+08:00"), At("2027-01-05T00:00:00+08:00"), false)],
            Periods(m));
        Assert.Equal(Periods(m), MemberState.Replay(m.Ledger).Plan("plus")!.Terms.Select(t => (t.Start, t.End, t.IsTrial)).OrderBy(p => p.Start).ToList());
    }
}
