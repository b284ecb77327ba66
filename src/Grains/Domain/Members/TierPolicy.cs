using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// Growth earned by one event, at its instant; a refund replaces it with a lower <see cref="Amount"/>.
/// A value of 24 bytes: a member's growth history is one plain array.
/// </summary>
[GenerateSerializer, Immutable, Alias("growth-record")]
public readonly struct GrowthRecord(long seq, DateTimeOffset occurredAt, long amount)
{
    /// <summary>Arrival order: breaks ties between records of the same instant.</summary>
    [Id(0)] public long Seq { get; } = seq;
    [Id(1)] private readonly long _ticks = occurredAt.UtcTicks;
    [Id(2)] public long Amount { get; } = amount;

    public DateTimeOffset OccurredAt => new(_ticks, TimeSpan.Zero);
    public GrowthRecord WithAmount(long amount) => new(Seq, OccurredAt, amount);
}

/// <summary>The tier in force at an instant: <see cref="Since"/> starts its validity, <see cref="ValidUntil"/> ends it (exclusive).</summary>
public sealed record TierStatus(Tier Tier, DateTimeOffset Since, DateTimeOffset? ValidUntil);

/// <summary>
/// Growth history folded up to an instant: <see cref="TierCode"/> (since, until) is what replaying every
/// record dated before <see cref="At"/> gives, with every re-grade whose validity ended before it applied.
/// Records dated before <see cref="At"/> that still count after it stay in the member's list beside it;
/// <see cref="CarriedGrowth"/> is what dropped records still add to qualifying growth (lifetime windows).
/// It holds only under the tier rules it was computed with (<see cref="Rules"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("tier-checkpoint")]
public sealed record TierCheckpoint(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string TierCode,
    [property: Id(2)] DateTimeOffset Since,
    [property: Id(3)] DateTimeOffset? ValidUntil,
    [property: Id(4)] long CarriedGrowth,
    [property: Id(5)] string Rules);

/// <summary>
/// The tier as a pure function of growth history and an instant: replay the records in occurredAt order
/// (ties by arrival), upgrading at once when qualifying growth reaches a higher threshold, and re-grading
/// when a validity period ends. A <see cref="TierCheckpoint"/> stands for the records before it.
/// </summary>
public static class TierPolicy
{
    /// <summary>Qualifying growth at <paramref name="at"/>: records with occurredAt &lt;= at &lt; occurredAt + window.</summary>
    public static long QualifyingGrowth(MembershipProgram program, IReadOnlyList<GrowthRecord> records, TierCheckpoint? checkpoint, DateTimeOffset at)
    {
        var sum = checkpoint?.CarriedGrowth ?? 0;
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
        var tiers = program.Tiers;
        var tier = tiers[0];
        for (var i = 1; i < tiers.Count; i++)
        {
            if (qualifying >= tiers[i].Threshold) tier = tiers[i];
        }
        return tier;
    }

    /// <summary>
    /// The tier at <paramref name="at"/>. <paramref name="records"/> are in (occurredAt, seq) order; with a
    /// checkpoint, <paramref name="at"/> must not be before it (the caller holds the whole history otherwise).
    /// With a <paramref name="cursor"/>, the evaluation resumes where the last one got to when that still
    /// gives what a replay from the checkpoint would (<see cref="TierCursor"/>), and leaves it where it got to.
    /// </summary>
    public static TierStatus Evaluate(MembershipProgram program, IReadOnlyList<GrowthRecord> records, TierCheckpoint? checkpoint, DateTimeOffset start, DateTimeOffset at,
        TierCursor? cursor = null, long edits = 0)
    {
        if (checkpoint is not null && at < checkpoint.At) throw new HistoryNeededException($"the tier at {at:O}, before the growth checkpoint");
        TierStatus current;
        SlidingSum window;
        int i;
        if (cursor is not null && cursor.ResumesAt(program, records, checkpoint, start, at, edits))
        {
            (current, window, i) = (cursor.Current, new SlidingSum(program, records, cursor.Sum, cursor.Entered, cursor.Left), cursor.Read);
        }
        else
        {
            (current, window, i) = Resume(program, records, checkpoint, start);
        }
        current = Replay(program, records, window, current, ref i, at, before: false);
        // What was replayed depends on the records read, not on the instant: the next evaluation can resume here.
        cursor?.MoveTo(program, checkpoint, start, edits, i, window.Entered, window.Left, window.Sum, current);
        return Regrade(program, window, current, at, before: false);
    }

    /// <summary>
    /// The checkpoint at <paramref name="at"/> and how many of the first records it replaces (they no
    /// longer count at any instant from <paramref name="at"/> on).
    /// </summary>
    public static (TierCheckpoint Checkpoint, int Dropped) Fold(MembershipProgram program, IReadOnlyList<GrowthRecord> records, TierCheckpoint? checkpoint, DateTimeOffset start, DateTimeOffset at)
    {
        var (current, window, i) = Resume(program, records, checkpoint, start);
        current = Replay(program, records, window, current, ref i, at, before: true);
        current = Regrade(program, window, current, at, before: true);

        var carried = checkpoint?.CarriedGrowth ?? 0;
        var dropped = 0;
        if (program.Qualifying.Months is { } months)
        {
            while (dropped < records.Count && records[dropped].OccurredAt.AddMonths(months) <= at) dropped++;
        }
        else
        {
            while (dropped < records.Count && records[dropped].OccurredAt < at) carried += records[dropped++].Amount;
        }
        return (new TierCheckpoint(at, current.Tier.Code, current.Since, current.ValidUntil, carried, program.TierRules), dropped);
    }

    /// <summary>What a checkpoint depends on: the window, the validity and the tiers' codes and thresholds.</summary>
    public static string RulesOf(MembershipProgram program)
        => $"{program.Qualifying.Months}|{program.TierValidityMonths}|{string.Join(",", program.Tiers.Select(t => $"{t.Code}:{t.Threshold}"))}";

    private static (TierStatus Current, SlidingSum Window, int Next) Resume(MembershipProgram program, IReadOnlyList<GrowthRecord> records, TierCheckpoint? checkpoint, DateTimeOffset start)
    {
        if (checkpoint is null) return (new TierStatus(program.BaseTier, start, null), new SlidingSum(program, records, 0), 0);
        if (checkpoint.Rules != program.TierRules) throw new HistoryNeededException("the tier rules changed since the growth checkpoint");
        var window = new SlidingSum(program, records, checkpoint.CarriedGrowth);
        // Records before the checkpoint were replayed into it: they only count toward the window from here.
        var next = 0;
        while (next < records.Count && records[next].OccurredAt < checkpoint.At) next++;
        window.Enter(next);
        var tier = program.FindTier(checkpoint.TierCode) ?? program.BaseTier;
        return (new TierStatus(tier, checkpoint.Since, checkpoint.ValidUntil), window, next);
    }

    /// <summary>Replays records from <paramref name="i"/> on, up to <paramref name="until"/> (inclusive unless <paramref name="before"/>).</summary>
    private static TierStatus Replay(MembershipProgram program, IReadOnlyList<GrowthRecord> records, SlidingSum window, TierStatus current, ref int i, DateTimeOffset until, bool before)
    {
        var validity = program.TierValidityMonths;
        for (; i < records.Count; i++)
        {
            var record = records[i];
            if (record.OccurredAt > until || (before && record.OccurredAt == until)) break;
            current = Regrade(program, window, current, record.OccurredAt, before: false);
            window.AdvanceTo(record.OccurredAt, i + 1);
            var reached = TierFor(program, window.Sum);
            if (reached.Rank > current.Tier.Rank)
            {
                current = new TierStatus(reached, record.OccurredAt, validity is { } m ? record.OccurredAt.AddMonths(m) : null);
            }
        }
        return current;
    }

    /// <summary>Applies every validity expiry at or before <paramref name="until"/> (strictly before it with <paramref name="before"/>).</summary>
    private static TierStatus Regrade(MembershipProgram program, SlidingSum window, TierStatus current, DateTimeOffset until, bool before)
    {
        while (current.ValidUntil is { } end && (end < until || (!before && end == until)) && program.TierValidityMonths is { } months)
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
    private sealed class SlidingSum(MembershipProgram program, IReadOnlyList<GrowthRecord> records, long sum, int entered = 0, int left = 0)
    {
        private int _entered = entered;
        private int _left = left;
        public long Sum { get; private set; } = sum;
        public int Entered => _entered;
        public int Left => _left;

        /// <summary>Enters the first <paramref name="count"/> records without moving the instant.</summary>
        public void Enter(int count)
        {
            while (_entered < count) Sum += records[_entered++].Amount;
        }

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
/// Where the last tier evaluation of a member got to: the first <see cref="Read"/> growth records replayed
/// from the checkpoint, the qualifying window over them, and the tier they give before any later instant's
/// re-grade. The member's only tier cache, kept beside its state and never stored: it holds while the
/// records it read are unchanged (the state counts every change but an append at the end as an edit), the
/// checkpoint, the program's tier rules and the start are the same, and the instant is not before the last
/// record it read.
/// </summary>
public sealed class TierCursor
{
    private string? _rules;
    private TierCheckpoint? _checkpoint;
    private DateTimeOffset _start;
    private long _edits = -1;
    internal int Read { get; private set; }
    internal int Entered { get; private set; }
    internal int Left { get; private set; }
    internal long Sum { get; private set; }
    internal TierStatus Current { get; private set; } = null!;

    internal bool ResumesAt(MembershipProgram program, IReadOnlyList<GrowthRecord> records, TierCheckpoint? checkpoint, DateTimeOffset start, DateTimeOffset at, long edits)
        => edits == _edits && ReferenceEquals(checkpoint, _checkpoint) && start == _start && program.TierRules == _rules
           && Read <= records.Count && (Read == 0 || records[Read - 1].OccurredAt <= at);

    internal void MoveTo(MembershipProgram program, TierCheckpoint? checkpoint, DateTimeOffset start, long edits, int read, int entered, int left, long sum, TierStatus current)
    {
        _rules = program.TierRules;
        _checkpoint = checkpoint;
        _start = start;
        _edits = edits;
        Read = read;
        Current = current;
        Entered = entered;
        Left = left;
        Sum = sum;
    }
}

/// <summary>
/// A rule needed part of the member's history that its bounded state folded away (an event dated before
/// the horizon, an order or caller id only the ledger knows). The grain loads the whole history and runs
/// the request again; nothing the rule did is kept.
/// </summary>
public sealed class HistoryNeededException(string what) : Exception($"the member's full history is needed: {what}");
