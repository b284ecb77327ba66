using Orleans.Membership.Domain.Collections;
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
        TierCursor? none = null;
        return Evaluate(program, sortedRecords, start, at, ref none);
    }

    /// <summary>
    /// The tier at <paramref name="at"/>, resuming from <paramref name="cursor"/> where it still applies
    /// (same program and start, the same list with the records it read unchanged, an instant not before
    /// the last one it read) and leaving in it where this evaluation got to. A member's evaluations then
    /// read each growth record once, not once per write: an append keeps the records a cursor read; an
    /// insert before the end or a replacement (<see cref="RowList{T}.Edits"/>) means a replay from the
    /// first record. The cursor is updated in place: it belongs to one list's owner.
    /// </summary>
    public static TierStatus Evaluate(MembershipProgram program, RowList<GrowthRecord> sortedRecords, DateTimeOffset start, DateTimeOffset at, ref TierCursor? cursor)
        => Evaluate(program, (IReadOnlyList<GrowthRecord>)sortedRecords, start, at, ref cursor);

    private static TierStatus Evaluate(MembershipProgram program, IReadOnlyList<GrowthRecord> sortedRecords, DateTimeOffset start, DateTimeOffset at, ref TierCursor? cursor)
    {
        SlidingSum window;
        TierStatus current;
        int i;
        if (cursor is { } c && c.AppliesTo(program, sortedRecords, start, at))
        {
            window = new SlidingSum(program, sortedRecords, c.Entered, c.Left, c.Sum);
            current = c.Current;
            i = c.Read;
        }
        else
        {
            window = new SlidingSum(program, sortedRecords);
            current = new TierStatus(program.BaseTier, start, null);
            i = 0;
        }
        var validity = program.TierValidityMonths;

        for (; i < sortedRecords.Count; i++)
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
        // Everything so far depends on the records read, not on at: that is what a later call may resume.
        if (sortedRecords is RowList<GrowthRecord> rows)
        {
            cursor ??= new TierCursor();
            cursor.MoveTo(program, start, rows, i, window.Entered, window.Left, window.Sum, current);
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
    private sealed class SlidingSum(MembershipProgram program, IReadOnlyList<GrowthRecord> records, int entered = 0, int left = 0, long sum = 0)
    {
        private int _entered = entered;
        private int _left = left;
        public long Sum { get; private set; } = sum;
        public int Entered => _entered;
        public int Left => _left;

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

/// <summary>
/// Where a tier evaluation of a member got to: the first <see cref="Read"/> growth records of
/// <see cref="Records"/> (as they were at <see cref="Edits"/>) replayed, the qualifying window over them,
/// and the tier they give before any later instant's re-grade. Changed in place by each evaluation; it
/// belongs to the state that holds it.
/// </summary>
public sealed class TierCursor
{
    public MembershipProgram? Program { get; private set; }
    public DateTimeOffset Start { get; private set; }
    public RowList<GrowthRecord>? Records { get; private set; }
    /// <summary>The list's <see cref="RowList{T}.Edits"/> when the records were read.</summary>
    public long Edits { get; private set; }
    public int Read { get; private set; }
    public int Entered { get; private set; }
    public int Left { get; private set; }
    public long Sum { get; private set; }
    public TierStatus Current { get; private set; } = null!;

    internal void MoveTo(MembershipProgram program, DateTimeOffset start, RowList<GrowthRecord> records, int read, int entered, int left, long sum, TierStatus current)
    {
        Program = program;
        Start = start;
        Records = records;
        Edits = records.Edits;
        Read = read;
        Entered = entered;
        Left = left;
        Sum = sum;
        Current = current;
    }

    /// <summary>True when resuming from here gives what a replay from the first record would.</summary>
    public bool AppliesTo(MembershipProgram program, IReadOnlyList<GrowthRecord> records, DateTimeOffset start, DateTimeOffset at)
        => ReferenceEquals(program, Program) && start == Start
           && ReferenceEquals(records, Records) && Records.Edits == Edits && Read <= Records.Count
           && (Read == 0 || records[Read - 1].OccurredAt <= at);
}
