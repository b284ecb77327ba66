using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// Growth that time brings, as a pure function of the member's plans, its growth and the instant (as expiry
/// is): each local day whose start (00:00 in the program's zone) falls while a paid term with
/// <c>growthPerDay</c> runs earns the highest such rate; each day that starts while no plan runs (paid or
/// trial) loses <c>growthDecline.perDay</c>, never taking growth below zero; a term with
/// <c>bonusGrowth</c> earns it at its start. A member's time growth is written up to its last entry's
/// recording instant: what is due after it is <see cref="Pending"/>, and every write first writes it
/// (<see cref="Settle"/>) as one <c>accrual</c> entry of runs of days, so a ledger holds an entry per write,
/// not per day.
/// </summary>
public static class TimeGrowth
{
    public const string AccrualRule = "accrual";
    public const string BonusRule = "bonus";
    public const string DeclineRule = "decline";

    /// <summary>
    /// The time growth due in (the member's last recording, <paramref name="through"/>] not yet written, in
    /// runs of days in time order; null when there is none.
    /// </summary>
    public static List<GrowthRun>? Pending(MemberState state, MembershipProgram program, DateTimeOffset through)
    {
        if (!program.HasTimeGrowth || !state.Enrolled) return null;
        var position = state.LastRecordedAt ?? state.JoinedAt;
        if (through <= position) return null;

        List<GrowthRun>? runs = null;
        // Growth at each day's start, for the decline: the records up to it (a lifetime window: all of them).
        var credits = program.Decline is null ? null : TierPolicy.Expand(program, state.Growth);
        var next = 0;
        var growth = state.Checkpoint?.CarriedGrowth ?? 0;
        for (var day = program.NextDayStart(position); day <= through; day = program.NextDayStart(day))
        {
            var (rate, running) = RateAt(state, program, day);
            long amount = 0;
            string rule = AccrualRule;
            if (rate > 0) amount = rate;
            else if (!running && program.Decline is { } decline)
            {
                while (next < credits!.Count && credits[next].OccurredAt <= day) growth += credits[next++].Amount;
                amount = -Math.Min(decline.PerDay, Math.Max(0, growth));
                rule = DeclineRule;
            }
            growth += amount;
            if (amount == 0) continue;
            runs ??= [];
            if (runs.Count > 0 && runs[^1] is var last && last.PerDay == amount && last.Rule == rule
                && program.FromLocal(program.Local(last.From).Date.AddDays(last.Days)) == day)
            {
                runs[^1] = last with { Days = last.Days + 1 };
            }
            else runs.Add(new GrowthRun(day, 1, amount, rule));
        }

        // Bonuses of paid terms that start after the last recording (one that started before it was written with its purchase).
        foreach (var plan in state.Plans)
        {
            if (!program.Plans.TryGetValue(plan.Code, out var definition)) continue;
            foreach (var term in plan.Terms)
            {
                if (term.IsTrial || term.BonusDate <= position || term.BonusDate > through) continue;
                if (definition.Term(term.Term)?.BonusGrowth is not (> 0 and var bonus)) continue;
                runs ??= [];
                runs.Add(new GrowthRun(term.BonusDate, 1, bonus, BonusRule));
            }
        }
        runs?.Sort(static (a, b) => a.From != b.From ? a.From.CompareTo(b.From) : string.CompareOrdinal(a.Rule, b.Rule));
        return runs;
    }

    /// <summary>The highest daily rate of the paid terms running at <paramref name="at"/>, and whether any plan runs then.</summary>
    private static (long Rate, bool Running) RateAt(MemberState state, MembershipProgram program, DateTimeOffset at)
    {
        long rate = 0;
        var running = false;
        foreach (var plan in state.Plans)
        {
            foreach (var term in plan.Terms)
            {
                if (at < term.Start || at >= term.End) continue;
                running = true;
                if (!term.IsTrial && program.Plans.TryGetValue(plan.Code, out var definition) && definition.Term(term.Term) is { } rule)
                {
                    rate = Math.Max(rate, rule.GrowthPerDay);
                }
            }
        }
        return (rate, running);
    }

    /// <summary>
    /// Writes the time growth due by <see cref="MemberWrite.Now"/> as one <c>accrual</c> entry. Every rule that
    /// emits calls it before its own entries, so the member's last recording always marks how far it is written.
    /// </summary>
    public static void Settle(MemberWrite w)
    {
        if (Pending(w.State, w.Program, w.Now) is not { Count: > 0 } runs) return;
        long total = 0;
        foreach (var run in runs) total += run.PerDay * run.Days;
        var last = runs[^1];
        w.Emit(new LedgerEntry
        {
            Kind = LedgerKinds.Accrual,
            OccurredAt = last.Days == 1 ? last.From : w.Program.FromLocal(w.Program.Local(last.From).Date.AddDays(last.Days - 1)),
            Growth = total,
            Runs = runs,
        });
    }

    /// <summary>The growth of <paramref name="runs"/> as growth records (dated, in order) a tier replay takes beside the member's.</summary>
    public static List<GrowthRecord> WithPending(IReadOnlyList<GrowthRecord> records, List<GrowthRun> runs, long seq)
    {
        var merged = new List<GrowthRecord>(records.Count + runs.Count);
        merged.AddRange(records);
        foreach (var run in runs)
        {
            var record = new GrowthRecord(seq, run.From, run.PerDay, run.Days);
            var i = merged.Count;
            while (i > 0 && merged[i - 1].OccurredAt > record.OccurredAt) i--;
            merged.Insert(i, record);
        }
        return merged;
    }

    /// <summary>The total of pending runs.</summary>
    public static long Total(List<GrowthRun>? runs)
    {
        long total = 0;
        foreach (var run in runs ?? []) total += run.PerDay * run.Days;
        return total;
    }

    /// <summary>The next instant after <paramref name="now"/> at which time growth may change the member's growth.</summary>
    public static DateTimeOffset? NextChange(MemberState state, MembershipProgram program, DateTimeOffset now)
    {
        if (!program.HasTimeGrowth || !state.Enrolled) return null;
        var next = program.NextDayStart(now);
        foreach (var plan in state.Plans)
        {
            foreach (var term in plan.Terms)
            {
                if (term.Start > now && term.Start < next) next = term.Start;
            }
        }
        return next;
    }
}
