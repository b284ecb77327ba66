using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// Growth earned by one event, at its instant; a refund replaces it with a lower <see cref="Amount"/>. Growth
/// that time brings may be a run: <see cref="Amount"/> at the start of each of <see cref="Days"/> consecutive
/// local days from <see cref="OccurredAt"/> (<see cref="TierPolicy.Expand"/>). A value of 24 bytes: a
/// member's growth history is one plain array.
/// </summary>
[GenerateSerializer, Immutable, Alias("growth-record")]
public readonly struct GrowthRecord(long seq, DateTimeOffset occurredAt, long amount, int days = 1)
{
    [Id(0)] private readonly int _seq = checked((int)seq);
    [Id(3)] private readonly int _moreDays = days - 1;
    [Id(1)] private readonly long _ticks = occurredAt.UtcTicks;
    [Id(2)] public long Amount { get; } = amount;

    /// <summary>Arrival order: breaks ties between records of the same instant.</summary>
    public long Seq => _seq;
    /// <summary>The instant of its (first) credit.</summary>
    public DateTimeOffset OccurredAt => new(_ticks, TimeSpan.Zero);
    /// <summary>1 for an event's growth; the days of a run.</summary>
    public int Days => _moreDays + 1;
    public long Total => Amount * Days;
    public GrowthRecord WithAmount(long amount) => new(Seq, OccurredAt, amount, Days);
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
        records = Expand(program, records);
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
        var credits = Expand(program, records);
        // Runs of days are expanded into a fresh list on each call: the cursor's positions would not carry over.
        if (!ReferenceEquals(credits, records)) (records, cursor) = (credits, null);
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
    /// <remarks>A run of days must not straddle <paramref name="at"/> (<see cref="SplitRuns"/> first).</remarks>
    public static (TierCheckpoint Checkpoint, int Dropped) Fold(MembershipProgram program, IReadOnlyList<GrowthRecord> records, TierCheckpoint? checkpoint, DateTimeOffset start, DateTimeOffset at)
    {
        var credits = Expand(program, records);
        var (current, window, i) = Resume(program, credits, checkpoint, start);
        current = Replay(program, credits, window, current, ref i, at, before: true);
        current = Regrade(program, window, current, at, before: true);

        var carried = checkpoint?.CarriedGrowth ?? 0;
        var dropped = 0;
        if (program.Qualifying.Months is { } months)
        {
            while (dropped < records.Count && LastCredit(program, records[dropped]).AddMonths(months) <= at) dropped++;
        }
        else
        {
            while (dropped < records.Count && records[dropped].OccurredAt < at) carried += records[dropped++].Total;
        }
        return (new TierCheckpoint(at, current.Tier.Code, current.Since, current.ValidUntil, carried, program.TierRules), dropped);
    }

    /// <summary>
    /// What a checkpoint depends on: the window, the validity or calendar re-grade and the tiers' codes and
    /// thresholds (and the time zone, where re-grades or runs of days are placed in it).
    /// </summary>
    public static string RulesOf(MembershipProgram program)
    {
        var rules = $"{program.Qualifying.Months}|{program.TierValidityMonths}|{string.Join(",", program.Tiers.Select(t => $"{t.Code}:{t.Threshold}"))}";
        if (program.RegradeDayOfMonth is { } day) rules += $"|regrade:{day}";
        if (program.RegradeDayOfMonth is not null || program.HasTimeGrowth) rules += $"|{program.TimeZone.Id}";
        return rules;
    }

    /// <summary>The instant of the k-th credit of a run: 00:00 local, k days after its first.</summary>
    public static DateTimeOffset CreditAt(MembershipProgram program, GrowthRecord run, int k)
        => k == 0 ? run.OccurredAt : program.FromLocal(program.Local(run.OccurredAt).Date.AddDays(k));

    private static DateTimeOffset LastCredit(MembershipProgram program, GrowthRecord r) => r.Days == 1 ? r.OccurredAt : CreditAt(program, r, r.Days - 1);

    /// <summary>
    /// The records as single credits in (occurredAt, seq) order: each run of days becomes a credit per day.
    /// The list itself when it holds no run (the usual case: no copy).
    /// </summary>
    public static IReadOnlyList<GrowthRecord> Expand(MembershipProgram program, IReadOnlyList<GrowthRecord> records)
    {
        var runs = false;
        for (var i = 0; i < records.Count && !runs; i++) runs = records[i].Days > 1;
        if (!runs) return records;
        var credits = new List<GrowthRecord>(records.Count + 32);
        foreach (var r in records)
        {
            if (r.Days == 1) credits.Add(r);
            else for (var k = 0; k < r.Days; k++) credits.Add(new GrowthRecord(r.Seq, CreditAt(program, r, k), r.Amount));
        }
        credits.Sort(static (a, b) => a.OccurredAt != b.OccurredAt ? a.OccurredAt.CompareTo(b.OccurredAt) : a.Seq.CompareTo(b.Seq));
        return credits;
    }

    /// <summary>
    /// Splits every run of days that has credits both before and from <paramref name="at"/> into two runs, so
    /// that a fold at <paramref name="at"/> keeps or drops whole records. Returns whether any run is left.
    /// </summary>
    public static bool SplitRuns(MembershipProgram program, List<GrowthRecord> records, DateTimeOffset at)
    {
        var any = false;
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            if (r.Days == 1) continue;
            var before = 0;
            while (before < r.Days && CreditAt(program, r, before) < at) before++;
            if (before > 0 && before < r.Days)
            {
                records[i] = new GrowthRecord(r.Seq, r.OccurredAt, r.Amount, before);
                var rest = new GrowthRecord(r.Seq, CreditAt(program, r, before), r.Amount, r.Days - before);
                // Keep (occurredAt, seq) order: the rest goes after every record dated before it.
                var j = i + 1;
                while (j < records.Count && (records[j].OccurredAt < rest.OccurredAt || (records[j].OccurredAt == rest.OccurredAt && records[j].Seq < rest.Seq))) j++;
                records.Insert(j, rest);
                r = records[i];
            }
            any |= r.Days > 1;
        }
        return any;
    }

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
        for (; i < records.Count; i++)
        {
            var record = records[i];
            if (record.OccurredAt > until || (before && record.OccurredAt == until)) break;
            current = Regrade(program, window, current, record.OccurredAt, before: false);
            window.AdvanceTo(record.OccurredAt, i + 1);
            var reached = TierFor(program, window.Sum);
            if (reached.Rank > current.Tier.Rank)
            {
                current = new TierStatus(reached, record.OccurredAt, program.TierValidUntil(record.OccurredAt));
            }
        }
        return current;
    }

    /// <summary>Applies every validity expiry at or before <paramref name="until"/> (strictly before it with <paramref name="before"/>).</summary>
    private static TierStatus Regrade(MembershipProgram program, SlidingSum window, TierStatus current, DateTimeOffset until, bool before)
    {
        while (current.ValidUntil is { } end && (end < until || (!before && end == until)) && program.TiersExpire)
        {
            window.AdvanceTo(end, int.MaxValue);
            var tier = TierFor(program, window.Sum);
            current = tier.Rank == 0
                ? new TierStatus(tier, end, null)
                : new TierStatus(tier, end, program.TierValidUntil(end));
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
