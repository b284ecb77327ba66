using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// Growth earned by one event, at its instant; a refund replaces it with a lower <see cref="Amount"/>.
/// A value without references: a member's growth history is one flat array the collector never walks.
/// </summary>
public readonly struct GrowthRecord(long seq, DateTimeOffset occurredAt, long amount)
{
    /// <summary>Arrival order: breaks ties between records of the same instant.</summary>
    public long Seq { get; } = seq;
    public DateTimeOffset OccurredAt { get; } = occurredAt;
    public long Amount { get; } = amount;

    public GrowthRecord WithAmount(long amount) => new(Seq, OccurredAt, amount);
}

/// <summary>The tier in force at an instant: <see cref="Since"/> starts its validity, <see cref="ValidUntil"/> ends it (exclusive).</summary>
public sealed record TierStatus(Tier Tier, DateTimeOffset Since, DateTimeOffset? ValidUntil);

/// <summary>
/// The tier as a pure function of growth history and an instant: replay the records in occurredAt order
/// (ties by arrival), upgrading at once when qualifying growth reaches a higher threshold, and re-grading
/// when a validity period ends.
/// </summary>
public static class TierPolicy
{
    /// <summary>Qualifying growth at <paramref name="at"/>: records with occurredAt &lt;= at &lt; occurredAt + window.</summary>
    public static long QualifyingGrowth(MembershipProgram program, IReadOnlyList<GrowthRecord> records, DateTimeOffset at)
    {
        long sum = 0;
        foreach (var r in records)
        {
            if (r.OccurredAt <= at && Counts(program, r, at)) sum += r.Amount;
        }
        return sum;
    }

    private static bool Counts(MembershipProgram program, GrowthRecord r, DateTimeOffset at)
        => program.Qualifying.Months is not { } months || at < r.OccurredAt.AddMonths(months);

    /// <summary>The highest tier whose threshold <paramref name="qualifying"/> reaches.</summary>
    public static Tier TierFor(MembershipProgram program, long qualifying)
    {
        // Indexed, not foreach: this runs once per growth record of every evaluation, and an
        // enumerator of the IReadOnlyList would be an allocation each time.
        var tiers = program.Tiers;
        var tier = tiers[0];
        for (var i = 1; i < tiers.Count; i++)
        {
            if (qualifying >= tiers[i].Threshold) tier = tiers[i];
        }
        return tier;
    }

    /// <summary>The tier at <paramref name="at"/>. <paramref name="sortedRecords"/> must be in (occurredAt, seq) order.</summary>
    public static TierStatus Evaluate(MembershipProgram program, IReadOnlyList<GrowthRecord> sortedRecords, DateTimeOffset start, DateTimeOffset at)
    {
        var window = new SlidingSum(program, sortedRecords);
        var current = new TierStatus(program.BaseTier, start, null);
        var validity = program.TierValidityMonths;

        for (var i = 0; i < sortedRecords.Count; i++)
        {
            var record = sortedRecords[i];
            if (record.OccurredAt > at) break;
            current = Regrade(program, window, current, record.OccurredAt, validity);

            window.AdvanceTo(record.OccurredAt, i + 1);
            var reached = TierFor(program, window.Sum);
            if (reached.Rank > current.Tier.Rank)
            {
                current = new TierStatus(reached, record.OccurredAt, validity is { } m ? record.OccurredAt.AddMonths(m) : null);
            }
        }
        return Regrade(program, window, current, at, validity);
    }

    /// <summary>Applies every validity expiry that falls at or before <paramref name="until"/>.</summary>
    private static TierStatus Regrade(MembershipProgram program, SlidingSum window, TierStatus current, DateTimeOffset until, int? validity)
    {
        while (current.ValidUntil is { } end && end <= until && validity is { } months)
        {
            window.AdvanceTo(end, int.MaxValue);
            var tier = TierFor(program, window.Sum);
            current = tier.Rank == 0
                ? new TierStatus(tier, end, null)
                : new TierStatus(tier, end, end.AddMonths(months));
        }
        return current;
    }

    /// <summary>
    /// Qualifying growth over time with two pointers: instants only move forward, so records enter once
    /// (occurredAt &lt;= t) and leave once (occurredAt + window &lt;= t).
    /// </summary>
    private sealed class SlidingSum(MembershipProgram program, IReadOnlyList<GrowthRecord> records)
    {
        private int _entered;
        private int _left;
        public long Sum { get; private set; }

        /// <param name="instant">the instant, never earlier than the last call's</param>
        /// <param name="maxEntered">how many records (in order) may have entered: ties at one instant enter one at a time</param>
        public void AdvanceTo(DateTimeOffset instant, int maxEntered)
        {
            while (_entered < records.Count && _entered < maxEntered && records[_entered].OccurredAt <= instant)
            {
                Sum += records[_entered].Amount;
                _entered++;
            }
            if (program.Qualifying.Months is not { } months) return;
            while (_left < _entered && records[_left].OccurredAt.AddMonths(months) <= instant)
            {
                Sum -= records[_left].Amount;
                _left++;
            }
        }
    }
}
