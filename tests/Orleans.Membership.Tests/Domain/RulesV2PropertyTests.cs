using System.Text.Json;
using CsCheck;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Orleans.Membership.Tests.Domain;

/// <summary>
/// The bounded member under the rules of Rules v2 (caps and monthly limits, streaks, attributes, conditions,
/// windows and daily quotas, growth that moves with time, calendar re-grades): folded after every write, it
/// must answer every write and read as the whole history does, with the same ledger and tiers.
/// (<see cref="InvariantPropertyTests.A_bounded_member_answers_every_write_and_read_as_the_whole_history_does"/>
/// for the default program.)
/// </summary>
public sealed class RulesV2PropertyTests
{
    private static readonly DateTimeOffset Origin = MemberHarness.At("2024-01-01T00:00:00+08:00");

    /// <summary>A program that uses nearly every rule at once, with a 30-day refund window so that histories fold often.</summary>
    private static readonly Lazy<MembershipProgram> s_everything = new(() => Compile("""
        {
          "name": "Everything", "currency": "CNY", "timeZone": "Asia/Shanghai",
          "qualifying": { "window": "P6M" },
          "regrade": { "dayOfMonth": 8 },
          "orders": { "refundableDays": 30 },
          "tiers": [
            { "code": "member", "name": "Member", "threshold": 0 },
            { "code": "silver", "name": "Silver", "threshold": 500, "pointMultiplier": 1.2 },
            { "code": "gold", "name": "Gold", "threshold": 2000, "pointMultiplier": 1.5 }
          ],
          "multipliers": [
            { "name": "vip-birthday", "factor": 2, "when": { "birthdayMonth": true, "planActive": "vip" } },
            { "name": "campaign", "factor": 3, "when": { "between": { "from": "2024-03-01T00:00:00+08:00", "to": "2024-05-01T00:00:00+08:00" }, "attributes": { "category": ["a"] } } },
            { "name": "weekend", "factor": 1.5, "when": { "minTier": "silver", "weekday": ["saturday", "sunday"] } }
          ],
          "eventTypes": [
            {
              "type": "order.paid", "kind": "purchase",
              "growth": { "perAmount": 2, "of": "qualified" }, "points": { "perAmount": 1 },
              "pointMultipliers": ["tier", "vip-birthday", "campaign", "weekend"],
              "rules": [ { "when": { "attributes": { "category": ["c"] }, "planActive": "vip" }, "growth": { "perAmount": 3, "of": "qualified" }, "points": { "fixed": 50 }, "pointMultipliers": ["tier"] } ],
              "caps": [
                { "on": "growth", "per": "event", "max": 400 },
                { "on": "growth", "per": "day", "max": 600 },
                { "on": "growth", "per": "month", "max": 1500 },
                { "on": "growth", "per": "month", "by": "category", "max": 700 },
                { "on": "points", "per": "day", "by": "shop", "max": 300 }
              ],
              "counters": { "cups": { "attribute": "cups" }, "orders": 1 },
              "streak": { "period": "month", "rewards": [ { "from": 2, "growth": 50 }, { "from": 4, "growth": 100, "points": 20 } ] }
            },
            { "type": "order.refunded", "kind": "refund", "refunds": "order.paid" },
            {
              "type": "sign-in", "kind": "activity", "growth": { "fixed": 5 }, "points": { "fixed": 2 }, "limit": { "perDay": 1 },
              "streak": { "period": "day", "cycle": 5, "rewards": [ { "from": 2, "points": 3 }, { "from": 5, "points": 10 } ] }
            },
            { "type": "review", "kind": "activity", "growth": { "fixed": 20 }, "limit": { "perDay": 2, "perMonth": 2 }, "when": { "minTier": "silver" } },
            { "type": "share", "kind": "activity", "growth": { "fixed": 3 } }
          ],
          "points": { "expiry": { "policy": "days-after-earning", "days": 90 } },
          "benefits": [
            { "code": "daily-coupon", "name": "D", "period": "day", "grants": [ { "minTier": "silver", "quota": 1 }, { "plans": ["vip"], "quota": 2 } ] },
            { "code": "wednesday-deal", "name": "W", "period": "month", "window": { "weekday": "wednesday" }, "grants": [ { "minTier": "member", "quota": 3 } ] },
            { "code": "renewal", "name": "R", "period": "year", "window": { "planEnding": { "plan": "vip", "withinDays": 10 } }, "grants": [ { "plans": ["vip"], "quota": 1 } ] },
            { "code": "anniversary", "name": "A", "period": "year", "window": { "anniversary": true }, "grants": [ { "minTier": "member", "quota": 1 } ] },
            { "code": "vip-gold", "name": "G", "grants": [ { "minTier": "gold", "when": { "planActive": "vip" } } ] },
            { "code": "free-cup", "name": "F", "period": "lifetime", "grants": [ { "minTier": "member", "earnedBy": { "counter": "cups", "every": 5 } } ] }
          ],
          "plans": [
            {
              "code": "vip", "name": "VIP", "trialDays": 5,
              "terms": [ { "term": "P1M", "price": 10, "growthPerDay": 3 }, { "term": "P1Y", "price": 100, "growthPerDay": 5, "bonusGrowth": 100 } ]
            }
          ]
        }
        """));

    /// <summary>Growth that declines without a plan (a lifetime window), re-graded monthly on the 1st.</summary>
    private static readonly Lazy<MembershipProgram> s_declining = new(() => Compile("""
        {
          "name": "Declining", "currency": "CNY", "timeZone": "Asia/Shanghai",
          "qualifying": { "window": "lifetime" },
          "regrade": { "dayOfMonth": 1 },
          "growthDecline": { "perDay": 7 },
          "orders": { "refundableDays": 30 },
          "tiers": [
            { "code": "member", "name": "Member", "threshold": 0 },
            { "code": "silver", "name": "Silver", "threshold": 300 },
            { "code": "gold", "name": "Gold", "threshold": 1500 }
          ],
          "eventTypes": [
            { "type": "order.paid", "kind": "purchase", "growth": { "perAmount": 1 }, "points": { "perAmount": 1 } },
            { "type": "order.refunded", "kind": "refund", "refunds": "order.paid" },
            { "type": "sign-in", "kind": "activity", "growth": { "fixed": 10 }, "limit": { "perDay": 1 } },
            { "type": "review", "kind": "activity", "growth": { "fixed": 20 }, "limit": { "perMonth": 2 } },
            { "type": "share", "kind": "activity", "growth": { "fixed": 3 } }
          ],
          "benefits": [ { "code": "daily-coupon", "name": "D", "period": "day", "grants": [ { "minTier": "silver", "quota": 1 } ] } ],
          "plans": [
            { "code": "vip", "name": "VIP", "trialDays": 3, "terms": [ { "term": "P1M", "growthPerDay": 4 }, { "term": "P1Y", "growthPerDay": 6, "bonusGrowth": 150 } ] }
          ]
        }
        """));

    private static MembershipProgram Compile(string json)
    {
        var result = ProgramCompiler.Compile("v2", 1, json);
        return result.Program ?? throw new InvalidOperationException(string.Join("; ", result.Errors));
    }

    /// <summary>(kind, a, hours the clock moves, days the event is dated back, c), as the default program's timelines.</summary>
    private static readonly Gen<(int Kind, int A, int Forward, int Late, int C)[]> Timelines =
        Gen.Select(Gen.Int[0, 11], Gen.Int[1, 200_000], Gen.Int[0, 24 * 20], Gen.Frequency((6, Gen.Const(0)), (3, Gen.Int[0, 40]), (1, Gen.Int[0, 800])), Gen.Int[1, 100]).Array[1, 60];

    private static List<string> Live(MemberHarness m, (int Kind, int A, int Forward, int Late, int C)[] ops)
    {
        var answers = new List<string>();
        m.Now = Origin;
        m.Enroll(birthday: "06-15");
        var orders = new List<string>();
        var sent = new List<ScoringEvent>();
        string[] categories = ["a", "b", "c"];
        string[] benefits = [.. m.Program.Benefits.Select(b => b.Code)];
        for (var i = 0; i < ops.Length; i++)
        {
            var (kind, a, forward, late, c) = ops[i];
            m.Now = m.Now.AddHours(forward);
            var at = m.Now.AddDays(-late);
            ScoringEvent? ev = null;
            switch (kind)
            {
                case 0 or 1:
                    var amount = a / 100m;
                    var qualified = decimal.Round(amount * c / 100m, 2);
                    var attributes = $$"""{"qualified":{{qualified}},"category":"{{categories[a % 3]}}","shop":"s{{c % 2}}","cups":{{a % 4}}}""";
                    ev = new ScoringEvent($"p{i}", "order.paid", at, $"o{i}", amount, attributes);
                    break;
                case 2 when orders.Count > 0:
                    var orderId = orders[a % orders.Count];
                    var paidAt = sent.First(e => e.OrderId == orderId).OccurredAt!.Value;
                    ev = new ScoringEvent($"r{i}", "order.refunded", at < paidAt ? paidAt : at, orderId, 1m + a % 50, null);
                    break;
                case 3:
                    ev = new ScoringEvent($"a{i}", (a % 3) switch { 0 => "sign-in", 1 => "review", _ => "share" }, at, null, null, null);
                    break;
                case 4:
                    answers.Add(MemberHarness.Describe(m.Redeem(a % 300 + 1, id: $"x{i}")));
                    break;
                case 5:
                    answers.Add(MemberHarness.Describe(m.Plan(a % 4 == 0 ? "trial" : "purchase", term: a % 3 == 0 ? "P1Y" : "P1M", plan: "vip", id: $"s{i}")));
                    break;
                case 6 when sent.Count > 0:
                    ev = sent[a % sent.Count]; // a retry: a duplicate
                    break;
                case 7 when sent.Count > 0:
                    ev = sent[a % sent.Count] with { Type = "share", OrderId = null, Amount = null, AttributesJson = null }; // the id reused
                    break;
                case 8:
                    answers.Add(MemberHarness.Describe(m.Use(benefits[a % benefits.Length], useId: $"u{a % 7}")));
                    break;
                case 9:
                    m.Due(); // a statement read: what time made due is written
                    answers.Add("due");
                    break;
                case 10:
                    answers.Add(JsonSerializer.Serialize(m.Plans()));
                    break;
                case 11:
                    // Reviews three at a time, so monthly limits are reached.
                    for (var k = 0; k < 2; k++)
                    {
                        var review = new ScoringEvent($"v{i}-{k}", "review", at, null, null, null);
                        var o = m.Apply(review);
                        answers.Add($"{o.Status} {o.Field} {o.Reason}");
                    }
                    ev = new ScoringEvent($"v{i}-2", "review", at, null, null, null);
                    break;
            }
            if (ev is null) continue;
            var outcome = m.Apply(ev);
            answers.Add($"{outcome.Status} {outcome.Field} {outcome.Reason}");
            if (outcome.Status == EventStatus.Accepted)
            {
                sent.Add(ev);
                if (ev.Type == "order.paid") orders.Add(ev.OrderId!);
            }
        }
        return answers;
    }

    [Theory]
    [InlineData("everything")]
    [InlineData("declining")]
    public void A_bounded_member_answers_every_write_and_read_as_the_whole_history_does_under_rules_v2(string which)
    {
        var program = which == "everything" ? s_everything.Value : s_declining.Value;
        var folds = 0;
        var seen = new Dictionary<string, int>();
        void Saw(string what, bool yes) { if (yes) seen[what] = seen.GetValueOrDefault(what) + 1; }
        Timelines.Sample(ops =>
        {
            var whole = new MemberHarness(program);
            var bounded = new MemberHarness(program) { Bounded = true };
            var expected = Live(whole, ops);
            var actual = Live(bounded, ops);
            for (var i = 0; i < expected.Count; i++) Assert.True(expected[i] == actual[i], $"answer {i}: {expected[i]} vs {actual[i]}");
            Assert.Equal(whole.Ledger.Select(e => LedgerSamples.Full(e)), bounded.Ledger.Select(e => LedgerSamples.Full(e)));
            Assert.Equal(JsonSerializer.Serialize(whole.Summary(), DomainJson.Default.MemberSummary), JsonSerializer.Serialize(bounded.Summary(), DomainJson.Default.MemberSummary));
            foreach (var benefit in program.Benefits) Assert.Equal(JsonSerializer.Serialize(whole.Check(benefit.Code), DomainJson.Default.BenefitCheck), JsonSerializer.Serialize(bounded.Check(benefit.Code), DomainJson.Default.BenefitCheck));
            var from = bounded.State.Horizon ?? Origin;
            for (var probe = from; probe <= whole.Now.AddMonths(13); probe = probe.AddDays(23))
            {
                Assert.Equal(MemberQueries.TierAt(whole.State, program, probe), MemberQueries.TierAt(bounded.State, program, probe));
            }
            Assert.True(bounded.Fallbacks == 0, string.Join("; ", bounded.FallbackReasons));
            // The invariants of the whole history hold too: the ledger adds up to the summary.
            whole.Due();
            Assert.Equal(whole.Ledger.Sum(e => e.Points), whole.Balance);
            Assert.Equal(whole.Ledger.Sum(e => e.Growth), whole.Summary().Growth.Lifetime);
            if (bounded.State.Horizon is not null) folds++;
            Saw("capped", whole.Ledger.Any(e => e.Capped is not null));
            Saw("streak reward", whole.Ledger.Any(e => e.Reason?.StartsWith("streak:") == true));
            Saw("accrual", whole.Ledger.Any(e => e.Kind == Orleans.Membership.Domain.Ledger.LedgerKinds.Accrual && e.Growth > 0));
            Saw("decline", whole.Ledger.Any(e => e.Runs?.Any(r => r.PerDay < 0) == true));
            Saw("monthly limit", whole.Ledger.Any(e => e.Note?.StartsWith("limit:perMonth") == true));
            Saw("condition", whole.Ledger.Any(e => e.Note == "condition"));
            Saw("whole history", bounded.WholeHistoryLoads > 0);
            Saw("re-grade", whole.Ledger.Any(e => e.Kind == Orleans.Membership.Domain.Ledger.LedgerKinds.Tier && e.TierFrom != "member"));
        }, iter: 200);
        Assert.True(folds > 60, $"only {folds} histories folded anything");
        string[] expectedKinds = which == "everything"
            ? ["capped", "streak reward", "accrual", "monthly limit", "condition", "whole history", "re-grade"]
            : ["accrual", "decline", "monthly limit", "whole history", "re-grade"];
        foreach (var what in expectedKinds) Assert.True(seen.GetValueOrDefault(what) >= 5, $"{what}: only {seen.GetValueOrDefault(what)} histories; {string.Join(", ", seen)}");
    }

    [Theory]
    [InlineData("everything")]
    [InlineData("declining")]
    public void A_snapshot_of_a_bounded_member_under_rules_v2_answers_as_the_member_does(string which)
    {
        // The snapshot is the bounded state itself, through the Orleans serializer the grain storage uses.
        var program = which == "everything" ? s_everything.Value : s_declining.Value;
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        Timelines.Sample(ops =>
        {
            var m = new MemberHarness(program) { Bounded = true };
            Live(m, ops);
            var restored = serializer.Deserialize<MemberState>(serializer.SerializeToArray(m.State))!;
            Assert.Equal(m.State.PeriodUses, restored.PeriodUses);
            Assert.Equal(m.State.Streaks, restored.Streaks);
            Assert.Equal(m.State.Growth.Select(g => (g.Seq, g.OccurredAt, g.Amount, g.Days)), restored.Growth.Select(g => (g.Seq, g.OccurredAt, g.Amount, g.Days)));
            Assert.Equal((m.State.LastRecordedAt, m.State.HasRuns, m.State.Horizon, m.State.DayHorizon), (restored.LastRecordedAt, restored.HasRuns, restored.Horizon, restored.DayHorizon));
            Assert.Equal(
                JsonSerializer.Serialize(MemberQueries.Summary("m", m.State, program, m.Now.AddDays(40)), DomainJson.Default.MemberSummary),
                JsonSerializer.Serialize(MemberQueries.Summary("m", restored, program, m.Now.AddDays(40)), DomainJson.Default.MemberSummary));
            Assert.Equal(JsonSerializer.Serialize(MemberQueries.Plans(m.State, program, m.Now, m.Tier().Tier)), JsonSerializer.Serialize(MemberQueries.Plans(restored, program, m.Now, m.Tier().Tier)));
        }, iter: 100);
    }

    [Fact]
    public void Growth_that_declines_never_goes_below_zero_even_when_refunds_take_growth_back()
    {
        var program = s_declining.Value;
        Gen.Select(Gen.Int[0, 4], Gen.Int[1, 50_000], Gen.Int[0, 24 * 30]).Array[1, 40].Sample(ops =>
        {
            var m = new MemberHarness(program) { Now = Origin };
            m.Enroll();
            var orders = new List<string>();
            for (var i = 0; i < ops.Length; i++)
            {
                var (kind, a, forward) = ops[i];
                m.Now = m.Now.AddHours(forward);
                switch (kind)
                {
                    case 0:
                        m.Paid($"o{i}", a / 100m, m.Now.ToString("O"));
                        orders.Add($"o{i}");
                        break;
                    case 4 when orders.Count > 0:
                        var order = m.Order(orders[a % orders.Count]);
                        if (order.Unrefunded > 0) m.Refunded(order.OrderId, decimal.Round(order.Unrefunded * (1 + a % 100) / 100m, 2) is var r && r > 0 ? r : order.Unrefunded, m.Now.ToString("O"));
                        break;
                    case 1: m.Event("sign-in", m.Now.ToString("O")); break;
                    case 2: m.Plan(a % 3 == 0 ? "trial" : "purchase", term: a % 2 == 0 ? "P1Y" : "P1M", plan: "vip", id: $"s{i}"); break;
                    default: m.Due(); break;
                }
                Assert.True(m.Summary().Growth.Lifetime >= 0, $"growth {m.Summary().Growth.Lifetime} at {m.Now:O}");
            }
        }, iter: 150);
    }
}
