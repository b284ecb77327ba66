using System.Text.Json;
using CsCheck;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Domain;

/// <summary>Invariants that must hold after any sequence of writes, checked on random histories.</summary>
public sealed class InvariantPropertyTests
{
    private static readonly DateTimeOffset Origin = MemberHarness.At("2024-01-01T00:00:00+08:00");

    /// <summary>(kind, a, b, c): interpreted by <see cref="Run"/> as one write.</summary>
    private static readonly Gen<(int Kind, int A, int B, int C)[]> Histories =
        Gen.Select(Gen.Int[0, 5], Gen.Int[1, 200_000], Gen.Int[0, 1_050 * 24], Gen.Int[1, 100]).Array[1, 40];

    private static MemberHarness Run((int Kind, int A, int B, int C)[] ops, bool rehearse = false)
    {
        var m = new MemberHarness(TestPrograms.Default) { RehearseWrites = rehearse };
        m.Enroll(birthday: "06-15");
        var orders = new List<string>();
        for (var i = 0; i < ops.Length; i++)
        {
            var (kind, a, b, c) = ops[i];
            var at = Origin.AddHours(b).ToString("O");
            switch (kind)
            {
                case 0 or 1:
                    var id = $"o{i}";
                    if (m.Paid(id, a / 100m, at).Status == EventStatus.Accepted) orders.Add(id);
                    break;
                case 2 when orders.Count > 0:
                    var orderId = orders[a % orders.Count];
                    var refund = decimal.Round(m.State.Orders[orderId].Unrefunded * c / 100m, 2);
                    if (refund > 0) m.Refunded(orderId, refund, at);
                    break;
                case 3:
                    m.Event(a % 2 == 0 ? "sign-in" : "review", at);
                    break;
                case 4:
                    var r = m.Redeem(a % 800 + 1);
                    if (r.Status == WriteStatus.Applied) Assert.True(r.Value!.Balance >= 0, "a redemption overdrew the balance");
                    break;
                case 5:
                    m.Plan(a % 3 == 0 ? "trial" : "purchase", term: "P1M", at: at);
                    break;
            }
        }
        return m;
    }

    [Fact]
    public void Balance_equals_the_ledger_sum_and_live_buckets_minus_debt()
    {
        Histories.Sample(ops =>
        {
            var m = Run(ops);
            m.Due();
            var live = m.State.Buckets.Where(b => b.IsLiveAt(m.Now)).Sum(b => b.Remaining);
            Assert.Equal(live - m.State.Debt, m.Balance);
            Assert.Equal(m.Ledger.Sum(e => e.Points), m.Balance);
            Assert.Equal(m.Ledger.Sum(e => e.Growth), m.Summary().Growth.Lifetime);
            Assert.All(m.State.Buckets, b => Assert.True(b.Remaining >= 0));
        }, iter: 300);
    }

    [Fact]
    public void Replaying_the_ledger_gives_the_same_member()
    {
        Histories.Sample(ops =>
        {
            var m = Run(ops);
            var replayed = MemberState.Replay(m.Ledger);
            var expected = JsonSerializer.Serialize(m.Summary(), DomainJson.Default.MemberSummary);
            var actual = JsonSerializer.Serialize(MemberQueries.Summary("m", replayed, m.Program, m.Now), DomainJson.Default.MemberSummary);
            Assert.Equal(expected, actual);
        }, iter: 300);
    }

    [Fact]
    public void A_snapshot_plus_the_later_entries_gives_the_same_member()
    {
        Histories.Sample(ops =>
        {
            var m = Run(ops);
            var cut = m.Ledger.Count / 2;
            var restored = MemberState.FromSnapshot(MemberState.Replay(m.Ledger.Take(cut)).ToSnapshot());
            foreach (var e in m.Ledger.Skip(cut)) restored.Apply(e);
            var expected = JsonSerializer.Serialize(m.Summary(), DomainJson.Default.MemberSummary);
            var actual = JsonSerializer.Serialize(MemberQueries.Summary("m", restored, m.Program, m.Now), DomainJson.Default.MemberSummary);
            Assert.Equal(expected, actual);
            Assert.Equal(m.State.CallerIds.Count, restored.CallerIds.Count);
        }, iter: 200);
    }

    [Fact]
    public void Writing_on_a_clone_never_changes_the_state_it_was_cloned_from()
    {
        // A clone (the trial fold of a subscription) must copy every container the state changes in place.
        Histories.Sample(ops =>
        {
            var m = Run(ops);
            var cut = m.Ledger.Count / 2;
            var original = MemberState.Replay(m.Ledger.Take(cut));
            var before = JsonSerializer.Serialize(original.ToSnapshot());
            var clone = original.Clone();
            foreach (var e in m.Ledger.Skip(cut)) clone.Apply(e);
            Assert.Equal(before, JsonSerializer.Serialize(original.ToSnapshot()));
            Assert.Equal(JsonSerializer.Serialize(MemberState.Replay(m.Ledger).ToSnapshot()), JsonSerializer.Serialize(clone.ToSnapshot()));
        }, iter: 300);
    }

    [Fact]
    public void A_write_taken_back_leaves_no_trace()
    {
        // Every write of the history is first applied and taken back (the harness checks the state is
        // as before each time), then applied for real: the member must end as if nothing was ever undone,
        // down to the tier cursor's resumed evaluations.
        Histories.Sample(ops =>
        {
            var plain = Run(ops);
            var rehearsed = Run(ops, rehearse: true);
            Assert.Equal(string.Join("\n", plain.Ledger.Select(e => System.Text.Encoding.UTF8.GetString(LedgerEntryJson.Encode(e)))),
                string.Join("\n", rehearsed.Ledger.Select(e => System.Text.Encoding.UTF8.GetString(LedgerEntryJson.Encode(e)))));
            Assert.Equal(JsonSerializer.Serialize(plain.State.ToSnapshot()), JsonSerializer.Serialize(rehearsed.State.ToSnapshot()));
            for (var probe = Origin; probe <= plain.Now.AddMonths(13); probe = probe.AddDays(41))
            {
                Assert.Equal(MemberQueries.TierAt(MemberState.Replay(plain.Ledger), plain.Program, probe), MemberQueries.TierAt(rehearsed.State, rehearsed.Program, probe));
            }
        }, iter: 200);
    }

    [Fact]
    public void Counters_and_benefit_uses_taken_back_leave_no_trace()
    {
        // The random histories above run the default program, which counts nothing: here a program with
        // a stamp counter and quotas, every write rehearsed (applied, undone, checked) before it is kept.
        MemberHarness Run(bool rehearse)
        {
            var m = new MemberHarness(TestPrograms.Coffee) { RehearseWrites = rehearse };
            m.Enroll();
            for (var i = 0; i < 24; i++) m.Paid($"o{i}", 30m + i, Origin.AddDays(i).ToString("O"));
            m.Refunded("o3", 33m, Origin.AddDays(30).ToString("O"));
            for (var i = 0; i < 3; i++) m.Use("free-drink");
            m.Use("free-upsize");
            return m;
        }

        var plain = Run(rehearse: false);
        var rehearsed = Run(rehearse: true);
        Assert.True(plain.State.Counters["stamps"] > 0, "the history must count stamps");
        Assert.True(plain.State.BenefitUsesIn("free-drink", ProgramCalendar.LifetimePeriod) > 0, "the history must use a benefit");
        Assert.Equal(JsonSerializer.Serialize(plain.State.ToSnapshot()), JsonSerializer.Serialize(rehearsed.State.ToSnapshot()));
    }

    [Fact]
    public void The_tier_is_the_replay_of_growth_history_at_any_instant()
    {
        Histories.Sample(ops =>
        {
            var m = Run(ops);
            for (var probe = Origin; probe <= m.Now.AddMonths(13); probe = probe.AddDays(37))
            {
                var actual = MemberQueries.TierAt(m.State, m.Program, probe);
                var expected = ReferenceTier(m.Program, m.State.Growth.Select(g => (g.OccurredAt, g.Seq, g.Amount)).ToList(), m.State.JoinedAt, probe);
                Assert.Equal(expected, (actual.Tier.Code, actual.ValidUntil));
            }
        }, iter: 150);
    }

    /// <summary>The tier rules written as plainly as possible: quadratic, no sliding window.</summary>
    private static (string, DateTimeOffset?) ReferenceTier(MembershipProgram p, List<(DateTimeOffset At, long Seq, long Amount)> history, DateTimeOffset start, DateTimeOffset at)
    {
        var sorted = history.OrderBy(h => h.At).ThenBy(h => h.Seq).ToList();
        long Qualifying(DateTimeOffset t, int upTo) =>
            sorted.Take(upTo).Where(h => h.At <= t && t < h.At.AddMonths(12)).Sum(h => h.Amount);
        string Reached(long q) => p.Tiers.Last(t => q >= t.Threshold).Code;
        int Rank(string code) => p.Tiers.ToList().FindIndex(t => t.Code == code);

        var tier = p.Tiers[0].Code;
        DateTimeOffset? until = null;
        void Regrade(DateTimeOffset t)
        {
            while (until is { } end && end <= t)
            {
                tier = Reached(Qualifying(end, sorted.Count));
                until = Rank(tier) == 0 ? null : end.AddMonths(12);
            }
        }
        for (var i = 0; i < sorted.Count && sorted[i].At <= at; i++)
        {
            Regrade(sorted[i].At);
            var reached = Reached(Qualifying(sorted[i].At, i + 1));
            if (Rank(reached) > Rank(tier))
            {
                tier = reached;
                until = sorted[i].At.AddMonths(12);
            }
        }
        Regrade(at);
        return (tier, until);
    }
}
