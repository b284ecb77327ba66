using System.Globalization;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Benchmarks;

/// <summary>
/// What the engine's own share of a member costs, without Orleans or a database: members of the default
/// program get the load tests' seed (three orders up to two years back and a sign-in, one write: the seed's
/// batch holds a member's four events) and then two festival rounds of six events (seven in ten orders, the
/// rest sign-ins and reviews, a write each), each write folded as the grain folds it. The live heap after a
/// full collection, per member, after each step: the state and the facts a checkout reads. Add `activation-floor` for the figure of a whole active member.
/// </summary>
public static class MemberFootprint
{
    public static void Run(int count)
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "programs", "default.json"));
        var program = ProgramCompiler.Compile("default", 1, json).Program!;
        var now = new DateTimeOffset(2026, 11, 11, 4, 0, 0, TimeSpan.Zero);
        var members = new MemberState[count];
        var facts = new BenefitFacts[count];
        var empty = LiveHeap();
        for (var m = 0; m < count; m++)
        {
            var random = new Random(m);
            var events = new List<ScoringEvent>();
            for (var k = 0; k < 3; k++)
            {
                events.Add(new ScoringEvent($"seed-m{m}-o{k}", "order.paid", now.AddDays(-random.Next(1, 700)), $"seed-o{k}", random.Next(1000, 300000) / 100m, null));
            }
            events.Add(new ScoringEvent($"seed-m{m}-s", "sign-in", null, null, null, null));
            members[m] = new MemberState();
            Apply(program, members[m], events, now);
        }
        Report("seeded", empty, members, facts, program, now);
        for (var round = 1; round <= 2; round++)
        {
            var at = now.AddMinutes(round);
            for (var m = 0; m < count; m++)
            {
                var random = new Random(m * 7 + round);
                var events = new List<ScoringEvent>();
                for (var i = 0; i < 6; i++)
                {
                    var id = $"r{round:D2}20261111040000{m:x6}-b{m % 9973}-{i}";
                    var roll = random.Next(10);
                    events.Add(roll < 7
                        ? new ScoringEvent(id, "order.paid", null, id, random.Next(100, 100_000) / 100m, null)
                        : new ScoringEvent(id, roll < 9 ? "sign-in" : "review", null, null, null, null));
                }
                // A member's festival events arrive in different batches: a call, and a write, each.
                foreach (var ev in events) Apply(program, members[m], [ev], at);
            }
            Report($"after round {round}", empty, members, facts, program, at);
        }
        GC.KeepAlive(members);
    }

    private static int _leftOut;

    /// <summary>One write of the grain (one call): the events' recall, the rules for each, the due entries, the fold.</summary>
    private static void Apply(MembershipProgram program, MemberState member, List<ScoringEvent> events, DateTimeOffset now)
    {
        var recall = MemberRecall.ForEvents(member, program, events, now);
        // The grain would replay its ledger here, which this run has not: such a write is left out, and the report says how many.
        if (recall.WholeHistory || (recall.OrderIds.Count > 0 && !member.RecallOrders(recall.OrderIds, [])))
        {
            _leftOut += events.Count;
            return;
        }
        // Ids the filter doubts are confirmed unused.
        if (recall.CallerIds.Count > 0) member.Recall(recall.CallerIds, []);
        var w = new MemberWrite(member, program, now);
        foreach (var ev in events) MemberRules.ApplyEvent(w, ev);
        MemberRules.WriteDue(w);
        member.Fold(program, now);
    }

    private static void Report(string step, long empty, MemberState[] members, BenefitFacts[] facts, MembershipProgram program, DateTimeOffset now)
    {
        for (var m = 0; m < members.Length; m++)
        {
            facts[m] = BenefitFacts.Of(members[m], program, MemberQueries.TierAt(members[m], program, now), now);
        }
        var perMember = (LiveHeap() - empty) / (double)members.Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{members.Length:N0} members {step}: {perMember:N0} bytes a member (state and facts){(_leftOut > 0 ? $"; {_leftOut:N0} events left out (they need the ledger)" : "")}"));
    }

    private static long LiveHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
