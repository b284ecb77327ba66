using System.Text.Json;
using CsCheck;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Domain;

/// <summary>Invariants that must hold after any sequence of writes, checked on random histories.</summary>
public sealed class InvariantPropertyTests
{
    private static readonly DateTimeOffset Origin = MemberHarness.At("2024-01-01T00:00:00+08:00");

    /// <summary>(kind, a, b, c): interpreted by <see cref="Run"/> as one write.</summary>
    private static readonly Gen<(int Kind, int A, int B, int C)[]> Histories =
        Gen.Select(Gen.Int[0, 5], Gen.Int[1, 200_000], Gen.Int[0, 1_050 * 24], Gen.Int[1, 100]).Array[1, 40];

    private static MemberHarness Run((int Kind, int A, int B, int C)[] ops)
    {
        var m = new MemberHarness(TestPrograms.Default);
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
                    var refund = decimal.Round(m.Order(orderId).Unrefunded * c / 100m, 2);
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
        // The snapshot is the bounded state itself, through the Orleans serializer the grain storage uses.
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Orleans.Serialization.Serializer>();
        Histories.Sample(ops =>
        {
            var m = Run(ops);
            var cut = Math.Max(1, m.Ledger.Count / 2);
            var folded = MemberState.Replay(m.Ledger.Take(cut));
            folded.Fold(m.Program, m.Ledger[cut - 1].RecordedAt);
            var restored = serializer.Deserialize<MemberState>(serializer.SerializeToArray(folded))!;
            try
            {
                    Assert.Equal((folded.LastSeq, folded.Horizon, folded.Checkpoint, folded.Growth.Count, folded.Buckets.Count, folded.Enrolled, folded.JoinedAt),
                    (restored.LastSeq, restored.Horizon, restored.Checkpoint, restored.Growth.Count, restored.Buckets.Count, restored.Enrolled, restored.JoinedAt));
                foreach (var e in m.Ledger.Skip(cut)) restored.Apply(e);
            }
            catch (HistoryNeededException)
            {
                // As the grain does: a later write reached behind the snapshot's horizon.
                restored = MemberState.Replay(m.Ledger);
            }
            var expected = JsonSerializer.Serialize(m.Summary(), DomainJson.Default.MemberSummary);
            var actual = JsonSerializer.Serialize(MemberQueries.Summary("m", restored, m.Program, m.Now), DomainJson.Default.MemberSummary);
            Assert.Equal(expected, actual);
        }, iter: 200);
    }

    /// <summary>
    /// One write of a history whose clock moves forward: (kind, a, hours the clock moves, days the event is
    /// dated back, c). Late events, refunds of old orders and retried ids reach behind a bounded member's horizon.
    /// </summary>
    private static readonly Gen<(int Kind, int A, int Forward, int Late, int C)[]> Timelines =
        Gen.Select(Gen.Int[0, 8], Gen.Int[1, 200_000], Gen.Int[0, 24 * 20], Gen.Frequency((6, Gen.Const(0)), (3, Gen.Int[0, 40]), (1, Gen.Int[0, 800])), Gen.Int[1, 100]).Array[1, 60];

    /// <summary>The default program with a 30-day refund window, so that histories of a few months fold often.</summary>
    private static readonly Lazy<MembershipProgram> ShortWindow = new(() =>
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(TestPrograms.Json("default"))!.AsObject();
        json["orders"] = new System.Text.Json.Nodes.JsonObject { ["refundableDays"] = 30 };
        var result = ProgramCompiler.Compile("default", 1, json.ToJsonString());
        return result.Program ?? throw new InvalidOperationException(string.Join("; ", result.Errors));
    });

    /// <summary>Runs a timeline on one member; returns what each write answered.</summary>
    private static List<string> Live(MemberHarness m, (int Kind, int A, int Forward, int Late, int C)[] ops)
    {
        var answers = new List<string>();
        m.Now = Origin;
        m.Enroll(birthday: "06-15");
        var orders = new List<string>();
        var sent = new List<ScoringEvent>();
        for (var i = 0; i < ops.Length; i++)
        {
            var (kind, a, forward, late, c) = ops[i];
            m.Now = m.Now.AddHours(forward);
            var at = m.Now.AddDays(-late);
            ScoringEvent? ev = null;
            switch (kind)
            {
                case 0 or 1:
                    ev = new ScoringEvent($"p{i}", "order.paid", at, $"o{i}", a / 100m, null);
                    break;
                case 2 when orders.Count > 0:
                    var orderId = orders[a % orders.Count];
                    var paidAt = sent.First(e => e.OrderId == orderId).OccurredAt!.Value;
                    ev = new ScoringEvent($"r{i}", "order.refunded", at < paidAt ? paidAt : at, orderId, 1m + a % 50, null);
                    break;
                case 3:
                    ev = new ScoringEvent($"a{i}", a % 2 == 0 ? "sign-in" : "review", at, null, null, null);
                    break;
                case 4:
                    answers.Add(MemberHarness.Describe(m.Redeem(a % 800 + 1, id: $"x{i}")));
                    break;
                case 5:
                    answers.Add(MemberHarness.Describe(m.Plan(a % 3 == 0 ? "trial" : "purchase", term: "P1M", id: $"s{i}")));
                    break;
                case 6 when sent.Count > 0:
                    ev = sent[a % sent.Count]; // a retry: a duplicate
                    break;
                case 7 when sent.Count > 0:
                    ev = sent[a % sent.Count] with { Type = "share", OrderId = null, Amount = null }; // the id reused with another body
                    break;
                case 8:
                    answers.Add(MemberHarness.Describe(m.Use(a % 2 == 0 ? "free-shipping" : "monthly-coupon", useId: $"u{a % 7}")));
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

    [Fact]
    public void A_bounded_member_answers_every_write_and_read_as_the_whole_history_does()
    {
        var folds = 0;
        Timelines.Sample(ops =>
        {
            if (AnswersAsTheWholeHistory(ops)) folds++;
        }, iter: 300);
        Assert.True(folds > 100, $"only {folds} histories folded anything");
    }

    [Fact]
    public void An_order_dated_exactly_at_the_horizon_that_upgrades_the_member_recalls_the_history_up_front()
    {
        // Found by the property above: the upgrade's period starts at the checkpoint's instant, and reporting
        // it asks the tier a tick before, behind the checkpoint.
        Timelines.Sample(ops => { AnswersAsTheWholeHistory(ops); }, iter: 1, seed: "faa4pOglchj2");
    }

    /// <summary>Runs the timeline on a bounded and a whole-history member; asserts they agree; true when the bounded one folded.</summary>
    private static bool AnswersAsTheWholeHistory((int Kind, int A, int Forward, int Late, int C)[] ops)
    {
        var whole = new MemberHarness(ShortWindow.Value);
        var bounded = new MemberHarness(ShortWindow.Value) { Bounded = true };
        var expected = Live(whole, ops);
        var actual = Live(bounded, ops);
        for (var i = 0; i < expected.Count; i++) Assert.True(expected[i] == actual[i], $"answer {i}: {expected[i]} vs {actual[i]}; ledger: {string.Join("\n", whole.Ledger.Select(e => LedgerSamples.Full(e)))}\n----\n{string.Join("\n", bounded.Ledger.Select(e => LedgerSamples.Full(e)))}");
        Assert.Equal(whole.Ledger.Select(e => LedgerSamples.Full(e)), bounded.Ledger.Select(e => LedgerSamples.Full(e)));
        Assert.Equal(JsonSerializer.Serialize(whole.Summary(), DomainJson.Default.MemberSummary), JsonSerializer.Serialize(bounded.Summary(), DomainJson.Default.MemberSummary));
        foreach (var benefit in whole.Program.Benefits) Assert.Equal(JsonSerializer.Serialize(whole.Check(benefit.Code), DomainJson.Default.BenefitCheck), JsonSerializer.Serialize(bounded.Check(benefit.Code), DomainJson.Default.BenefitCheck));
        var from = bounded.State.Horizon ?? Origin;
        for (var probe = from; probe <= whole.Now.AddMonths(13); probe = probe.AddDays(23))
        {
            Assert.Equal(MemberQueries.TierAt(whole.State, whole.Program, probe), MemberQueries.TierAt(bounded.State, bounded.Program, probe));
        }
        Assert.True(bounded.Fallbacks == 0, string.Join("; ", bounded.FallbackReasons));
        return bounded.State.Horizon is not null;
    }

    [Fact]
    public void A_bounded_member_keeps_only_what_its_windows_need()
    {
        // Two years of daily activity: a member of the default program holds the growth of two (the refund
        // window plus the qualifying window), whatever its age, and none of its orders.
        var m = new MemberHarness(TestPrograms.Default) { Bounded = true, Now = Origin };
        m.Enroll();
        for (var day = 0; day < 3 * 365; day++)
        {
            m.Now = Origin.AddDays(day);
            m.Paid($"o{day}", 10m, m.Now.ToString("O"));
            m.Event("sign-in", m.Now.ToString("O"));
        }
        Assert.InRange(m.State.Growth.Count, 2 * 2 * 364, 2 * 2 * 366);
        Assert.Equal(3 * 365 * 2 + 1, m.State.LastSeq - m.Ledger.Count(e => e.Kind is LedgerKinds.Tier or LedgerKinds.Expire));
        // No write read the whole history: a false "maybe" about a new order id reads only that id's entries.
        Assert.Equal(0, m.WholeHistoryLoads + m.Fallbacks);

        // A refund inside the refund window reads its order from the ledger, twice in a row (the second sees the first).
        var growth = m.State.LifetimeGrowth;
        Assert.Equal(EventOutcome.Accepted, m.Refunded("o1000", 4m, m.Now.ToString("O")));
        Assert.Equal(EventOutcome.Accepted, m.Refunded("o1000", 6m, m.Now.ToString("O")));
        Assert.Equal("refund-exceeds", m.Refunded("o1000", 0.01m, m.Now.ToString("O")).Reason);
        Assert.Equal(0, m.WholeHistoryLoads + m.Fallbacks);
        Assert.Equal(growth - m.Ledger.Where(e => e.OrderId == "o1000" && e.Kind == LedgerKinds.Earn).Sum(e => e.Growth), m.State.LifetimeGrowth);
        // One from before the window takes the whole history, and answers as it would have.
        Assert.Equal(EventOutcome.Accepted, m.Refunded("o10", 10m, m.Now.ToString("O")));
        Assert.Equal(1, m.WholeHistoryLoads + m.Fallbacks);
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

    [Fact]
    public void A_resumed_tier_evaluation_gives_what_a_replay_from_the_first_record_gives()
    {
        // The member's tier cursor is reused across writes and reads at instants in any order.
        Histories.Sample(ops =>
        {
            var m = Run(ops);
            var probes = Enumerable.Range(0, 30).Select(k => Origin.AddDays(k * 41)).ToArray();
            new Random(ops.Length).Shuffle(probes);
            foreach (var probe in probes)
            {
                var resumed = m.State.TierAt(m.Program, probe);
                var replayed = TierPolicy.Evaluate(m.Program, m.State.Growth, m.State.Checkpoint, m.State.JoinedAt, probe);
                Assert.Equal(replayed, resumed);
            }
        }, iter: 200);
    }

    [Fact]
    public void The_tier_entries_tell_the_tier_at_every_instant_when_events_arrive_in_time()
    {
        // The statement as an audit trail: the entry in force at an instant names the tier at that instant,
        // re-grades that passed between writes included. (A late event or a refund rewrites the past, so
        // the history here arrives in time order.)
        Gen.Select(Gen.Int[0, 3], Gen.Int[1, 200_000], Gen.Int[0, 1_050 * 24]).Array[1, 40].Sample(ops =>
        {
            var m = new MemberHarness(TestPrograms.Default) { Now = Origin };
            m.Enroll();
            var i = 0;
            foreach (var (kind, a, hours) in ops.OrderBy(o => o.Item3))
            {
                var at = Origin.AddHours(hours);
                m.Now = at.AddMinutes(1);
                if (kind < 3) m.Paid($"o{i++}", a / 100m, at.ToString("O"));
                else m.Event("sign-in", at.ToString("O"));
            }
            m.Now = m.Now.AddMonths(30);
            m.Due();
            var entries = m.Ledger.Where(e => e.Kind == LedgerKinds.Tier).ToList();
            var growth = m.State.Growth.Select(g => (g.OccurredAt, g.Seq, g.Amount)).ToList();
            for (var probe = Origin; probe <= m.Now; probe = probe.AddDays(5))
            {
                var told = entries.LastOrDefault(e => e.OccurredAt <= probe)?.TierTo ?? m.Program.BaseTier.Code;
                Assert.Equal(ReferenceTier(m.Program, growth, m.State.JoinedAt, probe).Item1, told);
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
