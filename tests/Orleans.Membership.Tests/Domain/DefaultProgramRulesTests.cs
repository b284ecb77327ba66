using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Tests.Support;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Domain;

/// <summary>The rules of default-program.md, one case per rule and edge, on the pure domain.</summary>
public sealed class DefaultProgramRulesTests
{
    private static MemberHarness NewMember(string? birthday = null)
    {
        var m = new MemberHarness(TestPrograms.Default);
        m.Enroll(birthday);
        return m;
    }

    // ---- the summary ------------------------------------------------------------------------------------

    [Fact]
    public void Last_activity_is_the_enrolment_until_a_later_write_and_a_replay_agrees()
    {
        var m = new MemberHarness(TestPrograms.Default) { Now = At("2026-11-01T10:00:00+08:00") };
        Assert.Null(m.Summary().LastActivityAt);
        m.Enroll();
        Assert.Equal(At("2026-11-01T10:00:00+08:00"), m.Summary().LastActivityAt);

        m.Now = At("2026-11-23T12:00:00+08:00");
        m.Paid("o1", 100m, "2026-11-20T09:00:00+08:00");
        Assert.Equal(At("2026-11-20T09:00:00+08:00"), m.Summary().LastActivityAt);
        m.Paid("o0", 50m, "2026-11-10T09:00:00+08:00"); // a late event does not move it back
        Assert.Equal(At("2026-11-20T09:00:00+08:00"), m.Summary().LastActivityAt);
        Assert.Equal(At("2026-11-20T09:00:00+08:00"), MemberState.Replay(m.Ledger).LastActivityAt);
    }

    // ---- growth and points of an order -----------------------------------------------------------------

    [Theory]
    [InlineData(100.00, 500, 100)]
    [InlineData(259.00, 1295, 259)]
    [InlineData(0.19, 0, 0)]
    [InlineData(99.99, 499, 99)]
    public void An_order_earns_floor_of_5x_growth_and_1x_points_at_the_base_tier(decimal amount, long growth, long points)
    {
        var m = NewMember();
        Assert.Equal(EventStatus.Accepted, m.Paid("o1", amount, "2026-03-01T10:00:00+08:00").Status);
        var s = m.Summary();
        Assert.Equal(growth, s.Growth.Lifetime);
        Assert.Equal(growth, s.Growth.Qualifying);
        Assert.Equal(points, s.Points.Balance);
    }

    [Fact]
    public void Points_of_an_order_use_the_tier_in_force_just_before_it()
    {
        var m = NewMember();
        m.Paid("o1", 1000m, "2026-01-05T10:00:00+08:00"); // growth 5000: gold after this order
        Assert.Equal("gold", m.Tier().Tier.Code);
        Assert.Equal(1000, m.Balance); // earned at member x1.0
        m.Paid("o2", 100m, "2026-01-06T10:00:00+08:00");
        Assert.Equal(1000 + 120, m.Balance); // gold x1.2
    }

    [Theory]
    [InlineData("2026-03-10T10:00:00+08:00", 200)]
    [InlineData("2026-03-31T23:59:59+08:00", 200)]
    [InlineData("2026-04-01T00:00:00+08:00", 100)] // 2026-03-31T16:00Z: already April in Shanghai
    [InlineData("2026-02-28T23:59:59+08:00", 100)]
    public void Orders_in_the_birthday_month_earn_double_points_in_the_program_time_zone(string occurredAt, long points)
    {
        var m = NewMember(birthday: "03-15");
        m.Paid("o1", 100m, occurredAt);
        Assert.Equal(points, m.Balance);
    }

    [Fact]
    public void Tier_birthday_and_plus_multipliers_multiply()
    {
        var m = NewMember(birthday: "11-05");
        m.Paid("o0", 1000m, "2026-01-05T10:00:00+08:00"); // gold
        m.Plan("trial", at: "2026-11-20T00:00:00+08:00");
        var before = m.Balance;
        m.Paid("o1", 100m, "2026-11-21T10:00:00+08:00");
        Assert.Equal(480, m.Balance - before); // 100 x 1.2 x 2 x 2
    }

    [Fact]
    public void Plus_doubles_points_only_while_it_runs()
    {
        var m = NewMember();
        m.Plan("trial", at: "2026-11-20T00:00:00+08:00");
        m.Paid("before", 100m, "2026-11-19T23:59:59+08:00");
        Assert.Equal(100, m.Balance);
        m.Paid("during", 100m, "2026-11-20T00:00:00+08:00");
        Assert.Equal(300, m.Balance);
    }

    [Theory]
    [InlineData("purchase", "P1M", "active", "active")]
    [InlineData("trial", null, "trial", "trial-used")]
    public void A_plan_dated_by_a_clock_a_few_minutes_ahead_runs_from_now_and_every_answer_agrees(string action, string? term, string status, string trialRefusal)
    {
        var m = NewMember();
        var bought = m.Plan(action, term, at: m.Now.AddMinutes(4));
        Assert.Equal(status, bought.Value!.Status);
        Assert.Equal(status, m.Summary().Subscription!.Status);
        Assert.True(m.Check("free-shipping").Entitled);
        // It is running: a trial now is refused (as running, or as the trial had), and a cancel stops its renewal.
        Assert.Equal(trialRefusal, m.Plan("trial", id: "t2").Reason);
        Assert.Equal(WriteStatus.Applied, m.Plan("cancel", id: "c1").Status);
    }

    // ---- limits ---------------------------------------------------------------------------------------------

    [Fact]
    public void Sign_in_earns_once_per_local_day_and_the_extra_is_accepted_with_a_reason()
    {
        var m = NewMember();
        Assert.Equal(EventStatus.Accepted, m.Event("sign-in", "2026-11-22T00:00:00+08:00").Status);
        Assert.Equal(EventStatus.Accepted, m.Event("sign-in", "2026-11-22T23:59:59+08:00").Status);
        Assert.Equal(EventStatus.Accepted, m.Event("sign-in", "2026-11-23T00:00:00+08:00").Status);
        var s = m.Summary();
        Assert.Equal(20, s.Growth.Lifetime);
        Assert.Equal(10, s.Points.Balance);
        var capped = Assert.Single(m.Ledger, e => e.Kind == LedgerKinds.Earn && e.Note is not null);
        Assert.Equal(0, capped.Points);
        Assert.Equal(0, capped.Growth);
        Assert.Equal("limit:perDay:1", capped.Note);
    }

    [Theory]
    [InlineData("review", 6, 100, 50)]
    [InlineData("share", 11, 50, 0)]
    [InlineData("profile.completed", 2, 100, 50)]
    public void Activities_stop_earning_at_their_limit(string type, int times, long growth, long points)
    {
        var m = NewMember();
        for (var i = 0; i < times; i++) m.Event(type, $"2026-11-22T10:{i:00}:00+08:00");
        var s = m.Summary();
        Assert.Equal(growth, s.Growth.Lifetime);
        Assert.Equal(points, s.Points.Balance);
    }

    // ---- expiry ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("2025-03-01T10:00:00+08:00", "2027-01-01T00:00:00+08:00")]
    [InlineData("2025-12-31T23:59:59+08:00", "2027-01-01T00:00:00+08:00")]
    [InlineData("2026-01-01T00:00:00+08:00", "2028-01-01T00:00:00+08:00")] // 2025-12-31T16:00Z is 2026 in Shanghai
    public void Points_expire_at_the_end_of_the_year_after_earning(string earned, string expires)
    {
        var m = NewMember();
        m.Paid("o1", 10m, earned);
        var bucket = Assert.Single(m.State.Buckets);
        Assert.Equal(At(expires), bucket.ExpiresAt);
    }

    [Fact]
    public void A_bucket_lives_while_now_is_before_its_expiry_and_expires_exactly_at_it()
    {
        var m = NewMember();
        m.Now = At("2026-06-01T12:00:00+08:00");
        m.Paid("o1", 10m, "2025-05-01T10:00:00+08:00");
        m.Now = At("2026-12-31T23:59:59+08:00");
        Assert.Equal(10, m.Balance);
        m.Now = At("2027-01-01T00:00:00+08:00");
        Assert.Equal(0, m.Balance);
        m.Due();
        var expire = Assert.Single(m.Ledger, e => e.Kind == LedgerKinds.Expire);
        Assert.Equal(-10, expire.Points);
        Assert.Equal(At("2027-01-01T00:00:00+08:00"), expire.OccurredAt);
        Assert.Equal(m.Ledger.Sum(e => e.Points), m.Balance);
    }

    [Fact]
    public void An_order_whose_bucket_had_already_expired_earns_and_expires_at_once()
    {
        var m = NewMember();
        m.Paid("old", 100m, "2024-06-01T10:00:00+08:00"); // bucket ends 2026-01-01+08, before now
        Assert.Equal(0, m.Balance);
        Assert.Equal(500, m.Summary().Growth.Lifetime);
        Assert.Equal(0, m.Summary().Growth.Qualifying);
        Assert.Equal([LedgerKinds.Enroll, LedgerKinds.Earn, LedgerKinds.Expire], m.Ledger.Select(e => e.Kind));
        Assert.Equal(0, m.Ledger.Sum(e => e.Points));
    }

    [Fact]
    public void Expiring_soon_lists_buckets_ending_within_60_days_soonest_first()
    {
        var m = NewMember();
        m.Paid("a", 10m, "2025-03-01T10:00:00+08:00"); // ends 2027-01-01
        m.Paid("b", 20m, "2025-08-01T10:00:00+08:00"); // ends 2027-01-01
        m.Paid("c", 30m, "2026-03-01T10:00:00+08:00"); // ends 2028-01-01
        m.Now = At("2026-11-02T00:00:00+08:00"); // 60 days before 2027-01-01 is 2026-11-02
        var soon = Assert.Single(m.Summary().Points.ExpiringSoon);
        Assert.Equal(30, soon.Amount);
        Assert.Equal(At("2027-01-01T00:00:00+08:00"), soon.ExpiresAt);
        m.Now = At("2026-11-01T23:59:59+08:00");
        Assert.Empty(m.Summary().Points.ExpiringSoon);
    }

    // ---- redemption -----------------------------------------------------------------------------------

    [Fact]
    public void Redemption_consumes_soonest_expiring_first_and_is_all_or_nothing()
    {
        var m = NewMember();
        m.Paid("late", 100m, "2026-05-01T10:00:00+08:00"); // ends 2028
        m.Paid("soon", 100m, "2025-05-01T10:00:00+08:00"); // ends 2027, arrived later
        var r = m.Redeem(150);
        Assert.Equal(WriteStatus.Applied, r.Status);
        Assert.Equal(50, r.Value!.Balance);
        Assert.Equal([(At("2027-01-01T00:00:00+08:00"), 100L), (At("2028-01-01T00:00:00+08:00"), 50L)],
            r.Value.Consumed.Select(c => (c.ExpiresAt!.Value, c.Points)));

        var entries = m.Ledger.Count;
        var short_ = m.Redeem(51);
        Assert.Equal(WriteStatus.Conflict, short_.Status);
        Assert.Equal("balance", short_.Reason);
        Assert.Equal(entries, m.Ledger.Count);
        Assert.Equal(50, m.Balance);
    }

    // ---- refunds --------------------------------------------------------------------------------------------

    [Fact]
    public void Partial_refunds_add_up_and_recompute_growth_and_points_on_what_remains()
    {
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00");
        Assert.Equal(EventStatus.Accepted, m.Refunded("o1", 30m, "2026-05-02T10:00:00+08:00").Status);
        var claw = m.Ledger[^1];
        Assert.Equal((LedgerKinds.Clawback, -30L, -150L), (claw.Kind, claw.Points, claw.Growth));
        Assert.Equal(350, m.Summary().Growth.Lifetime);
        Assert.Equal(70, m.Balance);

        Assert.Equal(EventStatus.Accepted, m.Refunded("o1", 70m, "2026-05-03T10:00:00+08:00").Status);
        Assert.Equal(0, m.Summary().Growth.Lifetime);
        Assert.Equal(0, m.Balance);

        var over = m.Refunded("o1", 0.01m, "2026-05-04T10:00:00+08:00");
        Assert.Equal(EventStatus.Rejected, over.Status);
        Assert.Equal("amount", over.Field);
    }

    [Fact]
    public void A_refund_reuses_the_multiplier_of_the_payment()
    {
        var m = NewMember();
        m.Paid("o0", 1000m, "2026-01-05T10:00:00+08:00"); // gold
        m.Paid("o1", 100m, "2026-01-06T10:00:00+08:00"); // 120 points at x1.2
        m.Refunded("o1", 50m, "2026-01-07T10:00:00+08:00");
        Assert.Equal(-60, m.Ledger.Single(e => e.Kind == LedgerKinds.Clawback).Points); // 120 - floor(50 x 1.2)
    }

    [Theory]
    [InlineData("never-paid", 10, "orderId")]
    [InlineData("o1", 100.01, "amount")]
    public void Refunds_of_unknown_orders_or_above_the_paid_amount_are_rejected_and_change_nothing(string orderId, decimal amount, string field)
    {
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00");
        var entries = m.Ledger.Count;
        var outcome = m.Refunded(orderId, amount, "2026-05-02T10:00:00+08:00", eventId: "r1");
        Assert.Equal(EventStatus.Rejected, outcome.Status);
        Assert.Equal(field, outcome.Field);
        Assert.Equal(entries, m.Ledger.Count);
        // A rejected write does not use up its id.
        Assert.Equal(EventStatus.Accepted, m.Refunded("o1", 10m, "2026-05-02T10:00:00+08:00", eventId: "r1").Status);
    }

    [Fact]
    public void Clawback_takes_from_the_orders_own_bucket_first()
    {
        var m = NewMember();
        m.Paid("a", 100m, "2025-05-01T10:00:00+08:00"); // ends 2027 (sooner)
        m.Paid("b", 100m, "2026-05-01T10:00:00+08:00"); // ends 2028
        m.Refunded("b", 100m, "2026-05-02T10:00:00+08:00");
        Assert.Equal([100L, 0L], m.State.Buckets.Select(b => b.Remaining));
    }

    [Fact]
    public void A_clawback_the_balance_cannot_cover_becomes_debt_that_later_earnings_pay_first()
    {
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00");
        m.Redeem(100);
        m.Refunded("o1", 100m, "2026-05-02T10:00:00+08:00");
        Assert.Equal(-100, m.Balance);
        Assert.Equal(100, m.State.Debt);
        m.Paid("o2", 30m, "2026-06-01T10:00:00+08:00");
        Assert.Equal(-70, m.Balance);
        Assert.Equal(30, m.Ledger[^1].DebtPaid);
        m.Paid("o3", 100m, "2026-06-02T10:00:00+08:00");
        Assert.Equal(30, m.Balance);
        Assert.Equal(0, m.State.Debt);
        Assert.Equal(m.Ledger.Sum(e => e.Points), m.Balance);
    }

    [Fact]
    public void A_second_payment_of_the_same_order_is_rejected()
    {
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00");
        var again = m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "other-id");
        Assert.Equal(EventStatus.Rejected, again.Status);
        Assert.Equal("orderId", again.Field);
    }

    [Theory]
    [InlineData(0.001, "amount")]
    [InlineData(-5, "amount")]
    [InlineData(0, "amount")]
    public void Bad_amounts_are_rejected_by_field(decimal amount, string field)
    {
        var m = NewMember();
        var outcome = m.Paid("o1", amount, "2026-05-01T10:00:00+08:00");
        Assert.Equal(EventStatus.Rejected, outcome.Status);
        Assert.Equal(field, outcome.Field);
    }

    [Fact]
    public void Events_more_than_five_minutes_ahead_are_rejected()
    {
        var m = NewMember();
        m.Now = At("2026-11-23T12:00:00+08:00");
        Assert.Equal(EventStatus.Accepted, m.Event("sign-in", "2026-11-23T12:05:00+08:00").Status);
        var late = m.Event("review", "2026-11-23T12:05:01+08:00");
        Assert.Equal(("occurredAt", EventStatus.Rejected), (late.Field, late.Status));
    }

    // ---- tiers ------------------------------------------------------------------------------------------------

    [Fact]
    public void Reaching_a_threshold_upgrades_at_once_for_twelve_months()
    {
        var m = NewMember();
        m.Paid("o1", 200m, "2026-02-10T10:00:00+08:00");
        var t = m.Tier();
        Assert.Equal("silver", t.Tier.Code);
        Assert.Equal(At("2026-02-10T10:00:00+08:00"), t.Since);
        Assert.Equal(At("2027-02-10T10:00:00+08:00"), t.ValidUntil);
        var entry = Assert.Single(m.Ledger, e => e.Kind == LedgerKinds.Tier);
        Assert.Equal(("member", "silver"), (entry.TierFrom, entry.TierTo));
    }

    [Fact]
    public void The_highest_reached_tier_is_taken_and_an_upgrade_restarts_validity()
    {
        var m = NewMember();
        m.Paid("o1", 200m, "2026-02-01T10:00:00+08:00"); // silver
        m.Paid("o2", 3800m, "2026-05-01T10:00:00+08:00"); // 20000: platinum, skipping gold
        var t = m.Tier();
        Assert.Equal("platinum", t.Tier.Code);
        Assert.Equal(At("2027-05-01T10:00:00+08:00"), t.ValidUntil);
    }

    [Theory]
    [InlineData("2026-06-01T09:59:59+08:00", "silver")]
    [InlineData("2026-06-01T10:00:00+08:00", "member")]
    public void At_the_end_of_validity_the_member_is_regraded_on_the_trailing_window(string now, string tier)
    {
        var m = NewMember();
        m.Now = At("2025-06-02T00:00:00+08:00");
        m.Paid("o1", 200m, "2025-06-01T10:00:00+08:00");
        m.Now = At(now);
        Assert.Equal(tier, m.Tier().Tier.Code);
    }

    [Fact]
    public void A_regrade_can_keep_the_tier_for_another_validity_period()
    {
        var m = NewMember();
        m.Paid("o1", 200m, "2025-06-01T10:00:00+08:00"); // silver until 2026-06-01T10:00
        m.Paid("o2", 200m, "2025-12-01T10:00:00+08:00"); // 1000 still qualifying at the re-grade
        var t = m.Tier();
        Assert.Equal("silver", t.Tier.Code);
        Assert.Equal(At("2026-06-01T10:00:00+08:00"), t.Since);
        Assert.Equal(At("2027-06-01T10:00:00+08:00"), t.ValidUntil);
    }

    [Fact]
    public void A_regrade_can_drop_several_tiers()
    {
        var m = NewMember();
        m.Paid("o1", 4000m, "2025-01-10T10:00:00+08:00"); // 20000: platinum until 2026-01-10
        var t = m.Tier();
        Assert.Equal("member", t.Tier.Code);
        Assert.Null(t.ValidUntil);
        Assert.Equal(At("2026-01-10T10:00:00+08:00"), t.Since);
    }

    [Fact]
    public void A_regrade_that_passed_while_the_member_wrote_nothing_gets_its_entry_on_the_next_write()
    {
        var m = NewMember();
        m.Now = At("2025-06-02T00:00:00+08:00");
        m.Paid("o1", 200m, "2025-06-01T10:00:00+08:00"); // silver until 2026-06-01T10:00
        m.Now = At("2026-09-02T00:00:00+08:00");
        m.Paid("o2", 1000m, "2026-09-01T10:00:00+08:00"); // 5000 qualifying: gold

        var tiers = m.Ledger.Where(e => e.Kind == LedgerKinds.Tier).Select(e => (e.OccurredAt, e.TierFrom, e.TierTo, e.TierValidUntil)).ToList();
        Assert.Equal(
        [
            (At("2025-06-01T10:00:00+08:00"), "member", "silver", At("2026-06-01T10:00:00+08:00")),
            (At("2026-06-01T10:00:00+08:00"), "silver", "member", null),
            (At("2026-09-01T10:00:00+08:00"), "member", "gold", At("2027-09-01T10:00:00+08:00")),
        ], tiers);
        Assert.Equal("gold", m.Tier().Tier.Code);
    }

    [Fact]
    public void A_refund_that_withdraws_an_upgrade_is_reported_when_it_is_applied_not_before_the_upgrade()
    {
        var m = new MemberHarness(TestPrograms.Default); // enrolled by its first order, on 01-10
        m.Paid("a", 100m, "2026-01-10T12:00:00+08:00");
        m.Paid("b", 100m, "2026-03-01T12:00:00+08:00"); // 1,000 growth: silver from 03-01
        m.Refunded("a", 100m, "2026-11-23T12:00:00+08:00"); // 500 left: never silver after all

        var tiers = m.Ledger.Where(e => e.Kind == LedgerKinds.Tier).Select(e => (e.OccurredAt, e.TierFrom, e.TierTo, e.TierSince)).ToList();
        Assert.Equal(
        [
            (At("2026-03-01T12:00:00+08:00"), "member", "silver", (DateTimeOffset?)null),
            (m.Now, "silver", "member", At("2026-01-10T12:00:00+08:00")), // in force now by date, and its period's start beside
        ], tiers);
        Assert.Equal("member", m.Tier().Tier.Code);

        m.Event("sign-in");
        m.Reload();
        m.Event("share");
        Assert.Equal(2, m.Ledger.Count(e => e.Kind == LedgerKinds.Tier)); // reported once, also after a replay
    }

    [Fact]
    public void A_period_that_began_and_ended_before_its_event_arrived_gets_its_entries_and_later_writes_stay_bounded()
    {
        // An order paid 13 months ago arrives now (an import, a late batch): platinum for 12 months, then the base tier again.
        var m = new MemberHarness(TestPrograms.Default) { Bounded = true, Now = At("2026-11-11T12:00:00+08:00") };
        m.Paid("o1", 4000m, "2025-10-12T12:00:00+08:00");

        var tiers = m.Ledger.Where(e => e.Kind == LedgerKinds.Tier).Select(e => (e.OccurredAt, e.TierFrom, e.TierTo)).ToList();
        Assert.Equal([(At("2025-10-12T12:00:00+08:00"), "member", "platinum"), (At("2026-10-12T12:00:00+08:00"), "platinum", "member")], tiers);
        m.Now = m.Now.AddMinutes(1);
        m.Event("sign-in");
        Assert.Equal(0, m.WholeHistoryLoads + m.Fallbacks);
    }

    [Theory]
    // A late order that makes a past period gold; then refunds that change the current period.
    [InlineData("paid A 300 2025-02-01; paid C 250 2025-08-01; paid B 1000 2025-06-01")]
    [InlineData("paid A 300 2025-02-01; paid B 1000 2025-06-01; paid C 250 2026-03-01; refunded B 500 2026-12-01; refunded A 300 2026-12-02")]
    public void A_period_rewritten_in_the_past_gets_no_entry_and_the_latest_tier_entry_names_the_tier_now(string writes)
    {
        var m = new MemberHarness(TestPrograms.Default) { Now = At("2026-12-06T12:00:00+08:00") };
        var before = 0;
        foreach (var write in writes.Split("; "))
        {
            var (kind, order, amount, date) = write.Split(' ') is [var k, var o, var a, var d] ? (k, o, decimal.Parse(a), d + "T10:00:00+08:00") : throw new ArgumentException(write);
            if (kind == "paid") m.Paid(order, amount, date);
            else m.Refunded(order, amount, date);
            var tier = m.Tier();
            // The entry in force now (the latest by date, then by seq) names the tier now, with its validity.
            var latest = m.Ledger.Where(e => e.Kind == LedgerKinds.Tier).OrderBy(e => e.OccurredAt).ThenBy(e => e.Seq).Last();
            Assert.Equal((tier.Tier.Code, tier.ValidUntil), (latest.TierTo, latest.TierValidUntil));
            // What a write adds is the current period and those that began after the one last reported, never an earlier one.
            var reportedBefore = MemberState.Replay(m.Ledger.Take(before)).ReportedPeriodStart;
            foreach (var e in m.Ledger.Skip(before).Where(e => e.Kind == LedgerKinds.Tier))
            {
                var since = e.TierSince ?? e.OccurredAt;
                Assert.True(since > reportedBefore || (e.TierTo == tier.Tier.Code && since == tier.Since), $"{e.TierFrom}->{e.TierTo} since {since:O} was written after {reportedBefore:O} was reported");
            }
            before = m.Ledger.Count;
        }
    }

    [Fact]
    public void Each_upgrade_of_one_write_gets_its_own_entry()
    {
        var m = new MemberHarness(TestPrograms.Default) { Now = At("2026-03-01T00:00:00+08:00") };
        m.Enroll();
        m.Now = At("2026-03-02T00:00:00+08:00");
        m.Write(w =>
        {
            MemberRules.ApplyEvent(w, new ScoringEvent("p1", "order.paid", At("2026-03-01T10:00:00+08:00"), "o1", 200m, null)); // silver
            return MemberRules.ApplyEvent(w, new ScoringEvent("p2", "order.paid", At("2026-03-01T11:00:00+08:00"), "o2", 800m, null)); // 5000: gold
        });

        var tiers = m.Ledger.Where(e => e.Kind == LedgerKinds.Tier).Select(e => (e.OccurredAt, e.TierFrom, e.TierTo)).ToList();
        Assert.Equal([(At("2026-03-01T10:00:00+08:00"), "member", "silver"), (At("2026-03-01T11:00:00+08:00"), "silver", "gold")], tiers);
        Assert.Equal("gold", MemberState.Replay(m.Ledger).ReportedTier);
    }

    [Fact]
    public void A_refund_can_undo_the_upgrade_its_order_caused()
    {
        var m = NewMember();
        m.Paid("o1", 200m, "2026-03-01T10:00:00+08:00");
        Assert.Equal("silver", m.Tier().Tier.Code);
        m.Refunded("o1", 0.2m, "2026-03-02T10:00:00+08:00"); // 199.80 remains: growth 999
        Assert.Equal("member", m.Tier().Tier.Code);
        Assert.Equal(999, m.Summary().Growth.Lifetime);
        Assert.Equal(("silver", "member"), (m.Ledger[^1].TierFrom, m.Ledger[^1].TierTo));
    }

    [Fact]
    public void The_tier_replays_history_in_occurred_order_whatever_the_arrival_order()
    {
        var inOrder = NewMember();
        var reversed = NewMember();
        var orders = new[] { ("a", 100m, "2025-03-01T10:00:00+08:00"), ("b", 150m, "2025-09-01T10:00:00+08:00"), ("c", 900m, "2026-04-01T10:00:00+08:00") };
        foreach (var (id, amount, at) in orders) inOrder.Paid(id, amount, at);
        foreach (var (id, amount, at) in orders.Reverse()) reversed.Paid(id, amount, at);
        Assert.Equal(inOrder.Tier(), reversed.Tier());
        Assert.Equal(inOrder.Summary().Growth, reversed.Summary().Growth);
    }

    // ---- benefits -------------------------------------------------------------------------------------------

    [Fact]
    public void Free_shipping_quota_is_per_calendar_month_and_never_overdrawn()
    {
        var m = NewMember();
        m.Paid("o1", 200m, "2026-11-01T10:00:00+08:00"); // silver: 2 per month
        var first = m.Use("free-shipping");
        Assert.Equal((WriteStatus.Applied, 1), (first.Status, first.Value!.Remaining));
        var second = m.Use("free-shipping");
        Assert.Equal((0, false, "quota"), (second.Value!.Remaining, second.Value.Entitled, second.Value.Reason));
        var third = m.Use("free-shipping");
        Assert.Equal((WriteStatus.Conflict, "quota"), (third.Status, third.Reason));
        Assert.Equal(At("2026-12-01T00:00:00+08:00"), m.Check("free-shipping").ResetsAt);

        m.Now = At("2026-12-01T00:00:00+08:00");
        Assert.Equal(2, m.Check("free-shipping").Remaining);
    }

    [Fact]
    public void A_use_retried_after_the_program_dropped_its_benefit_answers_as_the_first_time()
    {
        var m = NewMember();
        m.Paid("o1", 200m, "2026-11-01T10:00:00+08:00"); // silver: 2 per month
        var first = m.Use("free-shipping", "u1");
        Assert.Equal(WriteStatus.Applied, first.Status);

        var definition = System.Text.Json.Nodes.JsonNode.Parse(TestPrograms.Json("default"))!;
        var benefits = definition["benefits"]!.AsArray();
        benefits.Remove(benefits.Single(b => (string?)b!["code"] == "free-shipping"));
        m.Program = ProgramCompiler.Compile("default", 2, definition.ToJsonString()).Program!;

        var retry = m.Use("free-shipping", "u1");
        Assert.Equal(WriteStatus.Replayed, retry.Status);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(first.Value), System.Text.Json.JsonSerializer.Serialize(retry.Value));
        Assert.Equal(1, m.Ledger.Count(e => e.Kind == LedgerKinds.BenefitUse));
        Assert.Equal(WriteStatus.NotFound, m.Use("free-shipping", "u2").Status);
    }

    [Fact]
    public void Tier_and_plus_together_give_the_better_quota_and_the_lowest_price_factor()
    {
        var m = NewMember();
        m.Paid("o1", 1000m, "2026-11-01T10:00:00+08:00"); // gold: 5 free shipping, 0.98
        Assert.Equal((true, 0.98m), (m.Check("member-price").Entitled, m.Check("member-price").Value));
        Assert.Equal(5, m.Check("free-shipping").Remaining);
        m.Plan("trial");
        var price = m.Check("member-price");
        Assert.Equal(0.95m, price.Value);
        Assert.Equal(["tier:gold", "plan:plus"], price.Sources);
        var shipping = m.Check("free-shipping");
        Assert.Null(shipping.Remaining);
        Assert.True(shipping.Entitled);
        Assert.Null(shipping.ResetsAt);
    }

    [Fact]
    public void A_guest_is_entitled_to_nothing_in_the_default_program()
    {
        var guest = new MemberHarness(TestPrograms.Default);
        foreach (var benefit in TestPrograms.Default.Benefits)
        {
            var check = guest.Check(benefit.Code);
            Assert.False(check.Entitled);
            Assert.Equal("tier", check.Reason);
        }
    }

    [Theory]
    [InlineData("11-05", true, null)]
    [InlineData("03-15", false, "window")]
    [InlineData(null, false, "window")]
    public void Birthday_gift_only_in_the_birthday_month(string? birthday, bool entitled, string? reason)
    {
        var m = NewMember(birthday);
        m.Paid("o1", 200m, "2026-10-01T10:00:00+08:00"); // silver
        var check = m.Check("birthday-gift");
        Assert.Equal((entitled, reason), (check.Entitled, check.Reason));
        Assert.Equal(At("2027-01-01T00:00:00+08:00"), check.ResetsAt);
    }

    [Fact]
    public void A_retry_answers_as_the_first_time_did_after_the_program_dropped_its_event_type_or_plan_term()
    {
        var m = NewMember();
        Assert.Equal(EventStatus.Accepted, m.Event("review", eventId: "rv-1").Status);
        var bought = m.Plan("purchase", "P1M", id: "buy-1");
        Assert.Equal(WriteStatus.Applied, bought.Status);

        // Version 2 drops the review event type and the monthly term.
        var definition = System.Text.Json.Nodes.JsonNode.Parse(TestPrograms.Json("default"))!;
        var types = definition["eventTypes"]!.AsArray();
        types.Remove(types.Single(t => (string?)t!["type"] == "review"));
        definition["plans"]![0]!["terms"] = new System.Text.Json.Nodes.JsonArray("P1Y");
        var v2 = new MemberHarness(ProgramCompiler.Compile("default", 2, definition.ToJsonString()).Program!) { Now = m.Now };
        v2.Ledger.AddRange(m.Ledger);
        v2.Reload();
        var entries = v2.Ledger.Count;

        Assert.Equal(EventStatus.Duplicate, v2.Event("review", eventId: "rv-1").Status);
        var again = v2.Plan("purchase", "P1M", id: "buy-1");
        Assert.Equal((WriteStatus.Replayed, bought.Value), (again.Status, again.Value));
        Assert.Equal(entries, v2.Ledger.Count);
        // New ids meet the new rules.
        Assert.Equal("type", v2.Event("review", eventId: "rv-2").Field);
        Assert.Equal("term", v2.Plan("purchase", "P1M", id: "buy-2").Field);
    }

    [Fact]
    public void The_summary_shows_the_plan_that_runs_not_the_one_last_acted_on()
    {
        var m = new MemberHarness(TestPrograms.Load("sams"));
        m.Enroll();
        Assert.Equal(WriteStatus.Applied, m.Plan("purchase", "P1Y", plan: "plus").Status);
        Assert.Equal(WriteStatus.Applied, m.Plan("purchase", "P1Y", "2025-01-01T00:00:00+08:00", plan: "club").Status); // long expired

        var shown = m.Summary().Subscription!;
        Assert.Equal(("plus", "active", true), (shown.Plan, shown.Status, shown.AutoRenew));
    }

    [Fact]
    public void Purchases_stacked_past_the_year_9999_are_refused_naming_term()
    {
        var m = NewMember();
        WriteResult<SubscriptionView>? last = null;
        var bought = 0;
        for (; bought < 8_100; bought++)
        {
            last = m.Plan("purchase", "P1Y");
            if (last.Status != WriteStatus.Applied) break;
        }
        Assert.InRange(bought, 7_800, 8_000); // every year up to the calendar's end, less the longest term's margin
        Assert.Equal((WriteStatus.Invalid, "term"), (last!.Status, last.Field));
        Assert.Equal(WriteStatus.Applied, m.Plan("cancel").Status); // the member still works
    }

    [Fact]
    public void A_cancel_dated_before_the_plan_began_is_refused()
    {
        var m = NewMember();
        m.Plan("purchase", "P1M", "2026-11-21T12:00:00+08:00");
        var early = m.Plan("cancel", null, "2026-02-01T12:00:00+08:00");
        Assert.Equal((WriteStatus.Conflict, "not-active"), (early.Status, early.Reason));
        Assert.True(m.Summary().Subscription!.AutoRenew);
        Assert.Equal(WriteStatus.Applied, m.Plan("cancel", null, "2026-11-22T12:00:00+08:00").Status);
    }

    [Fact]
    public void A_removed_birthday_ends_the_birthday_month_and_stays_removed_after_a_replay()
    {
        var m = NewMember("11-05");
        m.Paid("o1", 200m, "2026-10-01T10:00:00+08:00"); // silver, in the birthday month
        Assert.True(m.Check("birthday-gift").Entitled);

        m.Write(w => MemberRules.Enroll(w, new EnrollRequest(null, ForgetBirthday: true)));
        Assert.Null(m.State.Birthday);
        Assert.Equal((false, "window"), (m.Check("birthday-gift").Entitled, m.Check("birthday-gift").Reason));
        var removal = m.Ledger[^1];
        Assert.Equal((LedgerKinds.Enroll, "", "profile"), (removal.Kind, removal.Birthday, removal.Note));
        Assert.Equal("", LedgerEntryJson.Decode(LedgerEntryJson.Encode(removal)).Birthday); // both ledgers keep it
        m.Reload();
        Assert.Null(m.State.Birthday);

        var entries = m.Ledger.Count;
        Assert.Equal(WriteStatus.Applied, m.Write(w => MemberRules.Enroll(w, new EnrollRequest(null, ForgetBirthday: true))).Status);
        Assert.Equal(entries, m.Ledger.Count); // nothing to remove: nothing written
        var both = m.Write(w => MemberRules.Enroll(w, new EnrollRequest("03-15", ForgetBirthday: true)));
        Assert.Equal((WriteStatus.Invalid, "birthday"), (both.Status, both.Field));
        Assert.Equal(entries, m.Ledger.Count);
    }

    [Theory]
    [InlineData("2026-12-01T23:59:59+08:00", false)]
    [InlineData("2026-12-02T00:00:00+08:00", true)]
    public void Monthly_coupon_from_day_two_of_the_month(string now, bool entitled)
    {
        var m = NewMember();
        m.Paid("o1", 1000m, "2026-11-01T10:00:00+08:00"); // gold
        m.Now = At(now);
        Assert.Equal(entitled, m.Check("monthly-coupon").Entitled);
    }

    [Theory]
    [InlineData(1000, "priority-service", false)]
    [InlineData(4000, "priority-service", true)]
    [InlineData(200, "early-access", false)]
    [InlineData(1000, "early-access", true)]
    public void Benefits_follow_the_tier(decimal spend, string code, bool entitled)
    {
        var m = NewMember();
        m.Paid("o1", spend, "2026-11-01T10:00:00+08:00");
        Assert.Equal(entitled, m.Check(code).Entitled);
    }

    [Fact]
    public void A_benefit_use_that_is_refused_writes_nothing()
    {
        var m = NewMember();
        var entries = m.Ledger.Count;
        var use = m.Use("free-shipping");
        Assert.Equal((WriteStatus.Conflict, "tier"), (use.Status, use.Reason));
        Assert.Equal(entries, m.Ledger.Count);
    }

    // ---- paid plan ----------------------------------------------------------------------------------------

    [Fact]
    public void Plus_trial_then_purchase_then_cancel_then_expiry()
    {
        var m = NewMember();
        var trial = m.Plan("trial", at: "2026-11-20T00:00:00+08:00");
        Assert.Equal(("trial", At("2026-11-27T00:00:00+08:00")), (trial.Value!.Status, trial.Value.ExpiresAt!.Value));
        Assert.Equal((WriteStatus.Conflict, "trial-used"), (m.Plan("trial").Status, m.Plan("trial").Reason));

        var bought = m.Plan("purchase", term: "P1M", at: "2026-11-22T00:00:00+08:00");
        Assert.Equal("active", bought.Value!.Status);
        Assert.Equal(At("2026-12-27T00:00:00+08:00"), bought.Value.ExpiresAt); // starts when the trial ends
        Assert.True(bought.Value.TrialUsed);

        var cancelled = m.Plan("cancel");
        Assert.Equal(("active", false), (cancelled.Value!.Status, cancelled.Value.AutoRenew));
        Assert.True(m.Check("early-access").Entitled);

        m.Now = At("2026-12-27T00:00:00+08:00");
        Assert.Equal("expired", m.Summary().Subscription!.Status);
        Assert.False(m.Check("early-access").Entitled);
    }

    [Fact]
    public void A_trial_expires_after_exactly_seven_days()
    {
        var m = NewMember();
        m.Plan("trial", at: "2026-11-20T10:00:00+08:00");
        m.Now = At("2026-11-27T09:59:59+08:00");
        Assert.Equal("trial", m.Summary().Subscription!.Status);
        m.Now = At("2026-11-27T10:00:00+08:00");
        Assert.Equal("expired", m.Summary().Subscription!.Status);
    }

    [Theory]
    [InlineData("purchase", "P2W", "term")]
    [InlineData("purchase", null, "term")]
    [InlineData("upgrade", null, "action")]
    public void Bad_subscription_requests_name_the_field(string action, string? term, string field)
    {
        var m = NewMember();
        var r = m.Plan(action, term: term);
        Assert.Equal((WriteStatus.Invalid, field), (r.Status, r.Field));
    }

    // ---- idempotency ------------------------------------------------------------------------------------

    [Fact]
    public void The_same_event_id_with_the_same_body_is_a_duplicate_and_with_another_body_is_refused()
    {
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1");
        var entries = m.Ledger.Count;
        Assert.Equal(EventStatus.Duplicate, m.Paid("o1", 100.00m, "2026-05-01T10:00:00+08:00", eventId: "e1").Status);
        var reused = m.Paid("o1", 99m, "2026-05-01T10:00:00+08:00", eventId: "e1");
        Assert.Equal((EventStatus.Rejected, "id-reused"), (reused.Status, reused.Reason));
        Assert.Equal(entries, m.Ledger.Count);
        Assert.Equal(100, m.Balance);
    }

    [Theory]
    [InlineData("""{"channel":"app","store":"s1"}""", """{"store":"s1","channel":"app"}""")]
    [InlineData("""{"a":{"y":1,"x":[{"q":2,"p":"s"}]}}""", """{"a":{"x":[{"p":"s","q":2}],"y":1}}""")]
    [InlineData("{}", null)]
    [InlineData(null, "{}")]
    public void A_retry_whose_attributes_differ_only_in_how_they_were_serialized_is_a_duplicate(string? sent, string? retried)
    {
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1", attributes: sent);
        var entries = m.Ledger.Count;
        Assert.Equal(EventStatus.Duplicate, m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1", attributes: retried).Status);
        Assert.Equal(EventStatus.Duplicate, m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1", attributes: sent).Status);
        Assert.Equal(entries, m.Ledger.Count);
    }

    [Theory]
    [InlineData("""{"channel":"app"}""", """{"channel":"web"}""")]
    [InlineData("""{"channel":"app"}""", """{"channel":"app","store":"s1"}""")]
    [InlineData("""{"n":[1,2]}""", """{"n":[2,1]}""")]
    [InlineData("""{"channel":"app"}""", null)]
    public void A_retry_with_other_attributes_is_refused(string? sent, string? retried)
    {
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1", attributes: sent);
        var reused = m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1", attributes: retried);
        Assert.Equal((EventStatus.Rejected, "id-reused"), (reused.Status, reused.Reason));
    }

    [Fact]
    public void An_event_fingerprinted_with_its_attributes_as_sent_is_still_recognised_when_retried_as_sent()
    {
        // Builds before attributes were compared in canonical form fingerprinted them as sent, key order and all.
        const string sent = """{"store":"s1","channel":"app"}""";
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1", attributes: sent);
        var earn = m.Ledger.FindIndex(e => e.EventId == "e1");
        var asSent = new BodyHash(stackalloc byte[256]);
        asSent.Add("event");
        asSent.Add("order.paid");
        asSent.Add(MemberHarness.At("2026-05-01T10:00:00+08:00"));
        asSent.Add("o1");
        asSent.AddMoney(100m);
        asSent.Add(sent);
        m.Ledger[earn] = m.Ledger[earn] with { BodyHash = asSent.Finish() };
        m.Reload();

        Assert.Equal(EventStatus.Duplicate, m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1", attributes: sent).Status);
        var reused = m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00", eventId: "e1", attributes: """{"store":"s2","channel":"app"}""");
        Assert.Equal((EventStatus.Rejected, "id-reused"), (reused.Status, reused.Reason));
    }

    [Fact]
    public void A_repeated_redemption_returns_the_first_result_forever()
    {
        var m = NewMember();
        m.Paid("o1", 100m, "2026-05-01T10:00:00+08:00");
        var first = m.Redeem(40, id: "r1");
        m.Paid("o2", 100m, "2026-05-02T10:00:00+08:00");
        var again = m.Redeem(40, id: "r1");
        Assert.Equal(WriteStatus.Replayed, again.Status);
        Assert.Equal(first.Value!.Balance, again.Value!.Balance);
        Assert.Equal(160, m.Balance);
        Assert.Equal((WriteStatus.Conflict, "id-reused"), (m.Redeem(41, id: "r1").Status, m.Redeem(41, id: "r1").Reason));
    }
}
