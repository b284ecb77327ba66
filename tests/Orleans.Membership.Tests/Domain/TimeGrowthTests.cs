using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Tests.Support;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Domain;

/// <summary>
/// Growth that moves with time (docs/programs.md, "Growth that moves with time"): computed as a pure function
/// of the plans and the instant, written as dated runs of days at the member's next write or statement read.
/// </summary>
public sealed class TimeGrowthTests
{
    private static readonly Lazy<MembershipProgram> s_weibo = new(() => TestPrograms.Load("weibo"));
    private static readonly Lazy<MembershipProgram> s_tencent = new(() => TestPrograms.Load("tencent-video"));

    private static MemberHarness Member(MembershipProgram program, string joined)
    {
        var m = new MemberHarness(program) { Now = At(joined) };
        m.Enroll();
        return m;
    }

    [Fact]
    public void Weibo_yearly_members_earn_a_bonus_of_200_and_15_a_day_from_the_first_day_that_starts_in_the_term()
    {
        var m = Member(s_weibo.Value, "2026-01-01T10:00:00+08:00");
        m.Plan("purchase", term: "P1Y", plan: "vip");
        Assert.Equal(200, m.Summary().Growth.Lifetime); // the bonus, with the purchase

        m.Now = At("2026-03-01T12:00:00+08:00"); // 01-02 .. 03-01: 59 days
        var summary = m.Summary();
        Assert.Equal((1085L, 1085L), (summary.Growth.Lifetime, summary.Growth.Qualifying));
        Assert.Equal(("vip2", At("2026-01-28T00:00:00+08:00"), (DateTimeOffset?)null), (summary.Tier.Code, summary.Tier.Since!.Value, summary.Tier.ValidUntil));

        // The statement read writes what time brought: one entry of one run, dated at its last day.
        m.Due();
        var accrual = m.Ledger.Last(e => e.Kind == LedgerKinds.Accrual);
        Assert.Equal((885L, At("2026-03-01T00:00:00+08:00")), (accrual.Growth, accrual.OccurredAt));
        Assert.Equal([new GrowthRun(At("2026-01-02T00:00:00+08:00"), 59, 15, "accrual")], accrual.Runs);
        var tier = m.Ledger.Last(e => e.Kind == LedgerKinds.Tier);
        Assert.Equal(("vip1", "vip2", At("2026-01-28T00:00:00+08:00")), (tier.TierFrom, tier.TierTo, tier.OccurredAt));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(summary), System.Text.Json.JsonSerializer.Serialize(m.Summary()));
        Assert.Equal(m.Ledger.Sum(e => e.Growth), m.Summary().Growth.Lifetime);
    }

    [Fact]
    public void A_monthly_term_bought_while_the_year_runs_starts_at_its_end_and_earns_10_a_day()
    {
        var m = Member(s_weibo.Value, "2026-01-01T10:00:00+08:00");
        m.Plan("purchase", term: "P1Y", plan: "vip");
        m.Now = At("2026-06-01T12:00:00+08:00");
        m.Plan("purchase", term: "P1M", plan: "vip"); // from 2027-01-01T10:00+08
        m.Now = At("2027-01-05T12:00:00+08:00");
        // 200 + 15 x 365 (2026-01-02 .. 2027-01-01, whose start the year still covers) + 10 x 4 (01-02 .. 01-05)
        Assert.Equal(200 + 15 * 365 + 10 * 4, m.Summary().Growth.Lifetime);
    }

    [Fact]
    public void A_term_pushed_later_by_a_back_dated_purchase_earns_its_bonus_once()
    {
        var m = Member(s_weibo.Value, "2026-01-01T10:00:00+08:00");
        m.Now = At("2026-06-01T12:00:00+08:00");
        m.Plan("purchase", term: "P1Y", plan: "vip", id: "year1"); // starts now: its bonus is written with it
        m.Now = At("2026-06-02T12:00:00+08:00");
        m.Plan("purchase", term: "P1Y", plan: "vip", id: "year2"); // follows year1: its bonus when it starts
        m.Now = At("2026-06-05T12:00:00+08:00");
        // A month dated 05-20 runs into year1, which moves to follow it (and year2 with it).
        m.Plan("purchase", "P1M", "2026-05-20T00:00:00+08:00", plan: "vip", id: "month");
        Assert.Equal(
            [At("2026-05-20T00:00:00+08:00"), At("2026-06-20T00:00:00+08:00"), At("2027-06-20T00:00:00+08:00")],
            m.State.Plan("vip")!.Terms.Select(t => t.Start).Order().ToList());

        m.Now = At("2027-07-01T12:00:00+08:00");
        m.Due();
        var bonuses = m.Ledger.Where(e => e.Kind == LedgerKinds.Accrual).SelectMany(e => e.Runs!).Where(r => r.Rule == TimeGrowth.BonusRule).ToList();
        // year1's where it was first written, year2's where it starts now.
        Assert.Equal([At("2026-06-01T12:00:00+08:00"), At("2027-06-20T00:00:00+08:00")], bonuses.Select(r => r.From).ToList());
        Assert.Equal(400, bonuses.Sum(r => r.PerDay));
        Assert.Equal(m.Ledger.Sum(e => e.Growth), m.Summary().Growth.Lifetime);
        // The statement replays to the same terms, and a replayed member writes no bonus again.
        var replayed = MemberState.Replay(m.Ledger);
        Assert.Null(TimeGrowth.Pending(replayed, s_weibo.Value, m.Now)?.Where(r => r.Rule == TimeGrowth.BonusRule).FirstOrDefault());
    }

    [Fact]
    public void Tencent_video_growth_declines_5_a_day_without_vip_and_never_below_zero()
    {
        var m = Member(s_tencent.Value, "2026-01-01T10:00:00+08:00");
        m.Plan("purchase", term: "P1M", plan: "vip"); // 01-02 .. 02-01: 31 days of 10
        m.Now = At("2026-03-01T12:00:00+08:00"); // 02-02 .. 03-01: 28 days of -5
        Assert.Equal(310 - 140, m.Summary().Growth.Lifetime);
        m.Now = At("2026-04-10T12:00:00+08:00"); // 310 / 5 = 62 days: zero from 04-04 on
        Assert.Equal(0, m.Summary().Growth.Lifetime);
        m.Due();
        var accrual = m.Ledger.Last(e => e.Kind == LedgerKinds.Accrual);
        Assert.Equal(
            [new GrowthRun(At("2026-01-02T00:00:00+08:00"), 31, 10, "accrual"), new GrowthRun(At("2026-02-02T00:00:00+08:00"), 62, -5, "decline")],
            accrual.Runs);

        m.Now = At("2026-05-01T12:00:00+08:00");
        m.Event("watch", "2026-05-01T10:00:00+08:00", attributes: """{"minutes": 120}"""); // 12 growth
        m.Now = At("2026-05-06T12:00:00+08:00");
        Assert.Equal(0, m.Summary().Growth.Lifetime);
        m.Due();
        Assert.Equal(
            [new GrowthRun(At("2026-05-02T00:00:00+08:00"), 2, -5, "decline"), new GrowthRun(At("2026-05-04T00:00:00+08:00"), 1, -2, "decline")],
            m.Ledger.Last(e => e.Kind == LedgerKinds.Accrual).Runs);
        Assert.Equal(m.Ledger.Sum(e => e.Growth), m.Summary().Growth.Lifetime);
    }

    [Fact]
    public void Tencent_video_levels_follow_growth_at_the_monthly_regrade()
    {
        var m = Member(s_tencent.Value, "2026-01-01T10:00:00+08:00");
        m.Event("watch", attributes: """{"minutes": 100}"""); // 10 growth
        m.Plan("purchase", term: "P1M", plan: "vip");
        m.Plan("purchase", term: "P1M", plan: "vip"); // until 03-01T10:00: 01-02 .. 03-01, 59 days of 10: 600 at 03-01 00:00
        m.Now = At("2026-03-31T12:00:00+08:00");
        var tier = m.Tier();
        Assert.Equal(("v2", At("2026-03-01T00:00:00+08:00"), At("2026-04-01T00:00:00+08:00")), (tier.Tier.Code, tier.Since, tier.ValidUntil));
        Assert.Equal(600 - 5 * 30, m.Summary().Growth.Qualifying); // declining since 03-02, the level holds until the re-grade

        m.Now = At("2026-04-01T12:00:00+08:00"); // re-graded at 04-01 00:00 on 600 - 5 x 31 = 445
        tier = m.Tier();
        Assert.Equal(("v1", At("2026-04-01T00:00:00+08:00"), (DateTimeOffset?)null), (tier.Tier.Code, tier.Since, tier.ValidUntil));
    }

    [Fact]
    public void A_trial_stops_the_decline_and_earns_nothing()
    {
        var program = Compile("""
            {
              "name": "Trial", "currency": "CNY", "timeZone": "Asia/Shanghai", "qualifying": { "window": "lifetime" },
              "growthDecline": { "perDay": 5 },
              "tiers": [ { "code": "basic", "name": "Basic", "threshold": 0 } ],
              "eventTypes": [ { "type": "task", "kind": "activity", "growth": { "fixed": 100 } } ],
              "plans": [ { "code": "vip", "name": "VIP", "terms": [ { "term": "P1M", "growthPerDay": 10 } ], "trialDays": 3 } ]
            }
            """);
        var m = Member(program, "2026-01-01T10:00:00+08:00");
        m.Event("task");
        m.Plan("trial", plan: "vip"); // 01-01T10:00 .. 01-04T10:00: 01-02 .. 01-04 neither earn nor decline
        m.Now = At("2026-01-06T12:00:00+08:00"); // 01-05, 01-06 decline
        Assert.Equal(100 - 10, m.Summary().Growth.Lifetime);
    }

    [Fact]
    public void A_member_with_time_growth_is_written_up_to_its_last_write_and_nothing_is_written_twice()
    {
        var m = Member(s_weibo.Value, "2026-01-01T10:00:00+08:00");
        m.Plan("purchase", term: "P1M", plan: "vip");
        for (var day = 2; day <= 20; day += 3)
        {
            m.Now = At($"2026-01-{day:00}T12:00:00+08:00");
            m.Event("task", m.Now.ToString("O"));
        }
        m.Now = At("2026-02-05T12:00:00+08:00");
        m.Due();
        // 01-02 .. 02-01: 31 days of 10, in runs that follow each other; tasks 5 each while the plan ran.
        var runs = m.Ledger.Where(e => e.Kind == LedgerKinds.Accrual && e.Runs![0].Rule == "accrual").SelectMany(e => e.Runs!).ToList();
        Assert.Equal(31, runs.Sum(r => r.Days));
        Assert.Equal(runs.Count, runs.Select(r => r.From).Distinct().Count());
        Assert.Equal(310 + 7 * 5, m.Summary().Growth.Lifetime);
    }

    [Fact]
    public void Where_growth_declines_a_refund_takes_back_at_most_the_growth_the_member_still_has()
    {
        var program = Compile("""
            {
              "name": "Decline", "currency": "CNY", "timeZone": "Asia/Shanghai", "qualifying": { "window": "lifetime" },
              "growthDecline": { "perDay": 5 },
              "tiers": [ { "code": "basic", "name": "Basic", "threshold": 0 } ],
              "eventTypes": [
                { "type": "order.paid", "kind": "purchase", "growth": { "perAmount": 1 } },
                { "type": "order.refunded", "kind": "refund", "refunds": "order.paid" }
              ]
            }
            """);
        var m = Member(program, "2026-01-01T10:00:00+08:00");
        Assert.Equal(EventStatus.Accepted, m.Paid("o1", 30m, "2026-01-01T10:00:00+08:00").Status); // 30 growth
        m.Now = At("2026-01-05T12:00:00+08:00"); // 01-02 .. 01-05 decline 20: 10 left
        Assert.Equal(10, m.Summary().Growth.Lifetime);

        Assert.Equal(EventStatus.Accepted, m.Refunded("o1", 30m, "2026-01-05T11:00:00+08:00").Status);
        var clawback = m.Ledger.Last(e => e.Kind == LedgerKinds.Clawback);
        Assert.Equal(-10, clawback.Growth);
        Assert.Equal(0, m.Summary().Growth.Lifetime);
        Assert.Equal(m.Ledger.Sum(e => e.Growth), m.Summary().Growth.Lifetime);
    }

    private static MembershipProgram Compile(string json)
    {
        var result = ProgramCompiler.Compile("lab", 1, json);
        return result.Program ?? throw new InvalidOperationException(string.Join("; ", result.Errors));
    }
}
