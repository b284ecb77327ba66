using System.Globalization;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>Points earned by one entry that have not been spent, clawed back or expired.</summary>
[GenerateSerializer, Immutable, Alias("point-bucket")]
public readonly struct PointBucket(long seq, DateTimeOffset earnedAt, DateTimeOffset? expiresAt, long remaining)
{
    /// <summary>The seq of the earn entry that created the bucket: its identity.</summary>
    [Id(0)] public long Seq { get; } = seq;
    [Id(1)] private readonly long _earnedTicks = earnedAt.UtcTicks;
    /// <summary>Exclusive end of the bucket's life in UTC ticks; <see cref="long.MaxValue"/>: never.</summary>
    [Id(2)] private readonly long _expiresTicks = expiresAt?.UtcTicks ?? long.MaxValue;
    [Id(3)] public long Remaining { get; } = remaining;

    public DateTimeOffset EarnedAt => new(_earnedTicks, TimeSpan.Zero);
    public DateTimeOffset? ExpiresAt => _expiresTicks == long.MaxValue ? null : new DateTimeOffset(_expiresTicks, TimeSpan.Zero);
    public bool IsLiveAt(DateTimeOffset t) => t.UtcTicks < _expiresTicks;
    public PointBucket WithRemaining(long remaining) => new(Seq, EarnedAt, ExpiresAt, remaining);
}

/// <summary>
/// A paid order as refunds need it: what was paid, refunded, and what it earned (its growth is its growth
/// record's, <see cref="MemberState.GrowthOf"/>). Built from the order's earn and clawback entries
/// (<see cref="Of"/>, <see cref="After"/>) when a write needs it; members do not keep their orders.
/// </summary>
/// <param name="EarnSeq">the seq of the order's earn entry: its bucket's and its growth record's identity</param>
/// <param name="GrowthBase">the base the growth formula multiplied when it was an attribute (null: the amount)</param>
/// <param name="PointsBase">the base the points formula multiplied when it was an attribute (null: the amount)</param>
public sealed record OrderRecord(
    string OrderId, string EventType, long EarnSeq, DateTimeOffset OccurredAt, decimal Paid, long Points,
    decimal? GrowthFactor, decimal? PointsFactor, decimal? GrowthBase, decimal? PointsBase, IReadOnlyDictionary<string, int>? Counters)
{
    public decimal Refunded { get; init; }
    public bool CountersTakenBack { get; init; }
    public decimal Unrefunded => Paid - Refunded;

    /// <summary>What a formula's base is once only <paramref name="unrefunded"/> of the order is left: the amount, or the attribute in proportion.</summary>
    public decimal RemainingBase(decimal? formulaBase, decimal unrefunded) => formulaBase is { } b ? b * unrefunded / Paid : unrefunded;

    /// <summary>The order as its earn entry left it.</summary>
    public static OrderRecord Of(LedgerEntry earn) => new(
        earn.OrderId!, earn.EventType ?? "", earn.Seq, earn.OccurredAt, earn.Amount!.Value, earn.Points,
        earn.GrowthFactor, earn.Multiplier, earn.GrowthBase, earn.PointsBase, earn.Counters);

    /// <summary>The order after one of its refunds (a clawback entry).</summary>
    public OrderRecord After(LedgerEntry clawback) => this with
    {
        Refunded = Refunded + (clawback.Amount ?? 0),
        Points = Points + clawback.Points,
        CountersTakenBack = CountersTakenBack || clawback.Counters is not null,
    };
}

/// <summary>
/// One paid or trial term of a plan: [Start, End); <see cref="Term"/> is its length (<c>P1Y</c>, a trial's <c>P7D</c>;
/// null for a trial recorded before trials named theirs), <see cref="At"/> the date of the action (null: recorded before terms kept it),
/// <see cref="BonusAt"/> where its bonus was written when a back-dated term moved it after that (null: at its start).
/// </summary>
[GenerateSerializer, Immutable, Alias("plan-term")]
public sealed record PlanTerm(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] DateTimeOffset End,
    [property: Id(2)] bool IsTrial,
    [property: Id(3)] string? Term = null,
    [property: Id(4)] DateTimeOffset? At = null,
    [property: Id(5)] DateTimeOffset? BonusAt = null)
{
    /// <summary>The date that orders the plan's terms: the action's, else where it was placed.</summary>
    public DateTimeOffset Dated => At ?? Start;

    /// <summary>When the term earns its start bonus: once, so not again where a back-dated term moved it.</summary>
    public DateTimeOffset BonusDate => BonusAt ?? Start;

    /// <summary>The term moved to start at <paramref name="start"/>, its length kept.</summary>
    public PlanTerm From(DateTimeOffset start)
        => this with { Start = start, End = Term is { } t ? EndOf(start, t) : start + (End - Start) };

    /// <summary>The end of a term of length <paramref name="term"/> (<c>P&lt;n&gt;Y</c>, <c>P&lt;n&gt;M</c>, <c>P&lt;n&gt;D</c>) that starts at <paramref name="start"/>.</summary>
    public static DateTimeOffset EndOf(DateTimeOffset start, string term)
    {
        var n = int.Parse(term.AsSpan(1, term.Length - 2), CultureInfo.InvariantCulture);
        return term[^1] switch
        {
            'Y' => start.AddMonths(12 * n),
            'M' => start.AddMonths(n),
            _ => start.AddHours(24 * n),
        };
    }

    /// <summary>Trials before paid terms of the same date (trial days are kept), then by length: one order whatever order they arrived in.</summary>
    public static int CompareDates(PlanTerm a, PlanTerm b)
    {
        var c = a.Dated.CompareTo(b.Dated);
        if (c != 0) return c;
        if (a.IsTrial != b.IsTrial) return a.IsTrial ? -1 : 1;
        return string.CompareOrdinal(a.Term, b.Term);
    }
}

/// <summary>A member's history with one plan. A write replaces it whole (<see cref="With"/>); it is never changed in place.</summary>
[GenerateSerializer, Immutable, Alias("plan-state")]
public sealed record PlanState(
    [property: Id(0)] string Code,
    [property: Id(1)] IReadOnlyList<PlanTerm> Terms,
    [property: Id(2)] bool TrialUsed,
    [property: Id(3)] bool Cancelled,
    [property: Id(4)] DateTimeOffset? LastChangeAt)
{
    public DateTimeOffset? ExpiresAt => Terms.Count == 0 ? null : Terms.Max(t => t.End);

    public bool IsActiveAt(DateTimeOffset t)
    {
        foreach (var term in Terms)
        {
            if (term.Start <= t && t < term.End) return true;
        }
        return false;
    }

    /// <summary>The start of the unbroken run of terms that ends at <see cref="ExpiresAt"/>.</summary>
    public DateTimeOffset? RunStart
    {
        get
        {
            if (ExpiresAt is not { } start) return null;
            foreach (var term in Terms.OrderByDescending(t => t.End))
            {
                if (term.End >= start && term.Start < start) start = term.Start;
            }
            return start;
        }
    }

    /// <summary>The plan after a subscription entry.</summary>
    public PlanState With(LedgerEntry e) => e.PlanAction switch
    {
        // A trial recorded before trials named their length carries its own end in the entry.
        "trial" => this with { TrialUsed = true, Terms = Placed(new PlanTerm(e.PlanStartsAt!.Value, e.PlanTerm is null ? e.PlanExpiresAt!.Value : e.PlanStartsAt.Value, IsTrial: true, e.PlanTerm, e.OccurredAt), out _, e.RecordedAt), LastChangeAt = e.OccurredAt },
        "purchase" => this with { Cancelled = false, Terms = Placed(new PlanTerm(e.PlanStartsAt!.Value, e.PlanStartsAt.Value, IsTrial: false, e.PlanTerm, e.OccurredAt), out _, e.RecordedAt), LastChangeAt = e.OccurredAt },
        "cancel" => this with { Cancelled = true, LastChangeAt = e.OccurredAt },
        _ => this,
    };

    /// <summary>
    /// The terms with <paramref name="term"/> among them, in date order, each starting at its date or at the end of
    /// the terms before it, whichever is later: a term dated inside another follows it, one dated before terms already
    /// recorded pushes them back whole. The same periods whatever order the actions arrived in; the time is the sum of the terms.
    /// A term moved that had started by <paramref name="recordedAt"/> keeps its bonus where it was written.
    /// </summary>
    public List<PlanTerm> Placed(PlanTerm term, out PlanTerm placed, DateTimeOffset? recordedAt = null)
    {
        // OrderBy is stable: identical terms keep their arrival order.
        var sorted = Terms.OrderBy(t => t, DateOrder).ToList();
        var at = sorted.Count;
        while (at > 0 && PlanTerm.CompareDates(sorted[at - 1], term) > 0) at--;
        // Terms dated before it keep their places (those folded away ended before any date a fold lets through).
        var cursor = DateTimeOffset.MinValue;
        for (var i = 0; i < at; i++) if (sorted[i].End > cursor) cursor = sorted[i].End;
        placed = term.From(term.Dated > cursor ? term.Dated : cursor);
        sorted.Insert(at, placed);
        cursor = placed.End;
        for (var i = at + 1; i < sorted.Count; i++)
        {
            var t = sorted[i];
            sorted[i] = t.From(t.Dated > cursor ? t.Dated : cursor);
            if (sorted[i].Start != t.Start && t.BonusAt is null && t.Start <= recordedAt) sorted[i] = sorted[i] with { BonusAt = t.Start };
            if (sorted[i].End > cursor) cursor = sorted[i].End;
        }
        return sorted;
    }

    /// <summary>Without the terms that ended before <paramref name="horizon"/> and are not part of the current run.</summary>
    public PlanState Folded(DateTimeOffset horizon)
    {
        var keepFrom = RunStart is { } run && run < horizon ? run : horizon;
        return Terms.Any(t => t.End < keepFrom) ? this with { Terms = Terms.Where(t => t.End >= keepFrom).ToList() } : this;
    }

    public static PlanState New(string code) => new(code, [], false, false, null);

    private static readonly Comparer<PlanTerm> DateOrder = Comparer<PlanTerm>.Create(PlanTerm.CompareDates);
}

/// <summary>What a caller id was used for: the body fingerprint, and the first answer.</summary>
public sealed record CallerIdRecord(string Kind, string? BodyHash, long Seq, string? Response);

/// <summary>A count under a key (an event type, a counter name, a benefit's period).</summary>
[GenerateSerializer, Immutable, Alias("tally")]
public readonly record struct Tally([property: Id(0)] string Key, [property: Id(1)] long Count);

/// <summary>
/// What earning events counted in a period: how many, and the growth and points they earned after caps.
/// <see cref="Key"/> is <c>{type}|{period}</c> or <c>{type}|{attribute}={value}|{period}</c>; the period
/// (after the last <c>|</c>) is a local day (yyyy-MM-dd) or month (yyyy-MM).
/// </summary>
[GenerateSerializer, Immutable, Alias("period-use")]
public readonly record struct PeriodUse([property: Id(0)] string Key, [property: Id(1)] int Count, [property: Id(2)] long Growth, [property: Id(3)] long Points)
{
    public ReadOnlySpan<char> Period => Key.AsSpan(Key.LastIndexOf('|') + 1);
}

/// <summary>An event type's streak: its length after the last period (yyyymmdd or yyyymm) that extended it.</summary>
[GenerateSerializer, Immutable, Alias("streak-state")]
public readonly record struct StreakState([property: Id(0)] string Type, [property: Id(1)] int Period, [property: Id(2)] int Length);

/// <summary>Earning events of a type on a local day (yyyymmdd).</summary>
[GenerateSerializer, Immutable, Alias("day-count")]
public readonly record struct DayCount([property: Id(0)] string Type, [property: Id(1)] int Day, [property: Id(2)] int Count);

/// <summary>
/// A member's working state: a pure fold of its ledger entries (<see cref="Apply"/>), bounded by the
/// program's windows (<see cref="Fold"/>). What it folds away lives in the ledger, and a request that needs
/// it gets it from there (<see cref="MemberRecall"/>, <see cref="HistoryNeededException"/>):
/// <list type="bullet">
/// <item>growth dated before the horizon is in a <see cref="TierCheckpoint"/> (records that still count
/// toward the qualifying window stay);</item>
/// <item>buckets with nothing left are dropped;</item>
/// <item>orders are not kept: their ids are in a filter, and a write that names one reads the order's entries
/// from the ledger (<see cref="RecallOrders"/>);</item>
/// <item>caller ids are in a filter only, confirmed against the ledger when it says "maybe";</item>
/// <item>day counts of days long gone, benefit uses of past periods and plan terms that ended before the
/// horizon outside the current run are dropped.</item>
/// </list>
/// The horizon is the program's refund window back from the last fold: events dated before it, refunds of
/// orders before it and day-limited events of days before the kept ones take the whole history. Not
/// thread-safe: only the member's activation touches it; other threads read the <see cref="BenefitFacts"/>
/// it publishes. It is the member's snapshot as it is.
/// </summary>
[GenerateSerializer, Alias("member-state")]
public sealed class MemberState : IBenefitFacts
{
    /// <summary>Days of day counts kept: an event dated earlier whose type has a daily limit takes the whole history.</summary>
    public const int DayCountDays = 7;

    [Id(0)] public bool Enrolled { get; private set; }
    // Instants are kept as UTC ticks (8 bytes, 0: none) rather than DateTimeOffset (16) or its nullable (24).
    [Id(1)] private long _joinedTicks;
    public DateTimeOffset JoinedAt { get => new(_joinedTicks, TimeSpan.Zero); private set => _joinedTicks = value.UtcTicks; }
    [Id(2)] public string? Birthday { get; private set; }
    [Id(3)] public long LastSeq { get; private set; }
    [Id(4)] private long _lastActivityTicks;
    public DateTimeOffset? LastActivityAt { get => Instant(_lastActivityTicks); private set => _lastActivityTicks = value?.UtcTicks ?? 0; }
    [Id(5)] public long LifetimeGrowth { get; private set; }
    /// <summary>The sum of points over all entries: always the balance once due expiries are written.</summary>
    [Id(6)] public long LedgerPoints { get; private set; }
    [Id(7)] public long Debt { get; private set; }
    [Id(8)] public string? ReportedTier { get; private set; }
    [Id(9)] private long _reportedTierSinceTicks;
    public DateTimeOffset? ReportedTierSince { get => Instant(_reportedTierSinceTicks); private set => _reportedTierSinceTicks = value?.UtcTicks ?? 0; }

    /// <summary>When the ledger's last <c>tier</c> entry is dated (its period's start, or when it was written if it corrected history).</summary>
    public DateTimeOffset? ReportedTierAt { get => Instant(_reportedTierAtTicks); private set => _reportedTierAtTicks = value?.UtcTicks ?? 0; }
    [Id(30)] private long _reportedTierAtTicks;

    /// <summary>The start of the tier period the ledger last reported: the enrolment while none was.</summary>
    public DateTimeOffset ReportedPeriodStart => ReportedTierSince ?? JoinedAt;

    /// <summary>
    /// Whether a tier period is the one the ledger last reported. The base tier reported since an instant
    /// is also when its period started earlier (a refund withdrew a later period: past periods are not rewritten).
    /// </summary>
    public bool IsReported(MembershipProgram program, string tierCode, DateTimeOffset since, DateTimeOffset? validUntil)
        => tierCode == (ReportedTier ?? program.BaseTier.Code)
           && (since == ReportedPeriodStart || (validUntil is null && since < ReportedPeriodStart));
    [Id(10)] public string? LastPlan { get; private set; }
    /// <summary>
    /// Increases with every entry that changes what <see cref="BenefitFacts"/> holds apart from the tier
    /// (enrollment and birthday, plans, benefit uses, counters, reported tier).
    /// </summary>
    [Id(11)] public long FactsRevision { get; private set; }

    /// <summary>Growth records in (occurredAt, seq) order, after <see cref="Checkpoint"/>'s.</summary>
    [Id(12)] private List<GrowthRecord> _growth = [];
    [Id(13)] public TierCheckpoint? Checkpoint { get; private set; }
    [Id(14)] private List<PointBucket> _buckets = [];
    /// <summary>Every caller id the member ever used.</summary>
    [Id(16)] private KeyFilter _callerIds = new();
    /// <summary>Every order id the member ever paid.</summary>
    [Id(17)] private KeyFilter _orderIds = new();
    /// <summary>Where the last fold cut: null while the state holds the whole history.</summary>
    [Id(18)] private long _horizonTicks;
    public DateTimeOffset? Horizon { get => Instant(_horizonTicks); private set => _horizonTicks = value?.UtcTicks ?? 0; }
    /// <summary>The first local day (yyyymmdd) whose day counts are all here; 0: all are.</summary>
    [Id(19)] public int DayHorizon { get; private set; }
    [Id(20)] private List<DayCount>? _dayCounts;
    [Id(21)] private List<Tally>? _memberCounts;
    [Id(22)] private List<Tally>? _counters;
    /// <summary>Benefit uses per <c>{code}|{period}</c>.</summary>
    [Id(23)] private List<Tally>? _benefitUses;
    [Id(24)] private List<PlanState>? _plans;
    [Id(25)] private List<PeriodUse>? _periodUses;
    [Id(26)] private List<StreakState>? _streaks;
    /// <summary>When the last entry was recorded: time growth is written up to it (<see cref="TimeGrowth"/>).</summary>
    [Id(27)] private long _lastRecordedTicks;
    public DateTimeOffset? LastRecordedAt => Instant(_lastRecordedTicks);
    /// <summary>True when some growth record is a run of days (<see cref="GrowthRecord.Days"/> &gt; 1).</summary>
    [Id(28)] public bool HasRuns { get; private set; }
    /// <summary>
    /// When the member's first entry was recorded (null: none yet): survives reactivation, not erasure, so it
    /// tells this member apart from one erased before under the same id (<see cref="MemberChanges.IdPrefix"/>).
    /// </summary>
    [Id(29)] private long _firstRecordedTicks;
    public DateTimeOffset? FirstRecordedAt => Instant(_firstRecordedTicks);

    /// <summary>
    /// Caller ids this state knows exactly: all of them while it holds the whole history, else those of the
    /// write in progress and those recalled from the ledger for it. A fold forgets them.
    /// </summary>
    [NonSerialized] private Dictionary<string, CallerIdRecord>? _knownIds;

    /// <summary>
    /// Orders this state knows exactly (null: never paid): all of them while it holds the whole history, else
    /// those the write in progress paid and those recalled from the ledger for it. A fold forgets them.
    /// </summary>
    [NonSerialized] private Dictionary<string, OrderRecord?>? _knownOrders;

    /// <summary>The member's tier cache (<see cref="TierCursor"/>), and the changes to the growth history that void it.</summary>
    [NonSerialized] private TierCursor? _tierCursor;
    [NonSerialized] private long _growthEdits;

    /// <summary>The tier at <paramref name="at"/>: a replay from the checkpoint, resumed where the last one got to.</summary>
    public TierStatus TierAt(MembershipProgram program, DateTimeOffset at)
        => TierPolicy.Evaluate(program, _growth, Checkpoint, JoinedAt, at, _tierCursor ??= new TierCursor(), _growthEdits);

    public IReadOnlyList<GrowthRecord> Growth => _growth;
    public IReadOnlyList<PointBucket> Buckets => _buckets;
    public IReadOnlyList<PlanState> Plans => (IReadOnlyList<PlanState>?)_plans ?? [];
    public IReadOnlyList<Tally> Counters => (IReadOnlyList<Tally>?)_counters ?? [];
    public IReadOnlyList<Tally> BenefitUses => (IReadOnlyList<Tally>?)_benefitUses ?? [];
    public IReadOnlyList<PeriodUse> PeriodUses => (IReadOnlyList<PeriodUse>?)_periodUses ?? [];
    public IReadOnlyList<StreakState> Streaks => (IReadOnlyList<StreakState>?)_streaks ?? [];

    private static DateTimeOffset? Instant(long ticks) => ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);

    /// <summary>A day key (yyyy-MM-dd, as ledger entries name days) as a number (yyyymmdd).</summary>
    public static int DayNumber(string day) => int.Parse(day.AsSpan(0, 4), CultureInfo.InvariantCulture) * 10000 + int.Parse(day.AsSpan(5, 2), CultureInfo.InvariantCulture) * 100 + int.Parse(day.AsSpan(8, 2), CultureInfo.InvariantCulture);

    public int? BirthMonth => Birthday is { Length: 5 } b ? int.Parse(b.AsSpan(0, 2), CultureInfo.InvariantCulture) : null;

    public static string UseKey(string code, string period) => string.Concat(code, "|", period);

    public int BenefitUsesIn(string code, string period) => (int)Get(_benefitUses, UseKey(code, period));

    public long Counter(string name) => Get(_counters, name);

    public int MemberCount(string type) => (int)Get(_memberCounts, type);

    /// <summary>How many events of <paramref name="type"/> earned on local day <paramref name="day"/>.</summary>
    public int DayCount(string type, string day)
    {
        var number = DayNumber(day);
        if (number < DayHorizon) throw new HistoryNeededException($"the count of '{type}' on {day}");
        if (_dayCounts is null) return 0;
        foreach (var c in _dayCounts)
        {
            if (c.Day == number && c.Type == type) return c.Count;
        }
        return 0;
    }

    /// <summary>What events counted in a period (<see cref="PeriodUse"/>); the period must not be before the kept day counts.</summary>
    public PeriodUse PeriodUseOf(string key)
    {
        var period = key.AsSpan(key.LastIndexOf('|') + 1);
        if (DayHorizon != 0 && PeriodEndDay(period) < DayHorizon) throw new HistoryNeededException($"the count of '{key}'");
        if (_periodUses is not null)
        {
            foreach (var u in _periodUses)
            {
                if (u.Key == key) return u;
            }
        }
        return new PeriodUse(key, 0, 0, 0);
    }

    /// <summary>The first day (yyyymmdd) of a day (yyyy-MM-dd) or month (yyyy-MM) period key.</summary>
    private static int PeriodStartDay(ReadOnlySpan<char> period)
        => int.Parse(period[..4], CultureInfo.InvariantCulture) * 10000 + int.Parse(period.Slice(5, 2), CultureInfo.InvariantCulture) * 100
           + (period.Length >= 10 ? int.Parse(period.Slice(8, 2), CultureInfo.InvariantCulture) : 1);

    public StreakState? StreakOf(string type)
    {
        if (_streaks is null) return null;
        foreach (var s in _streaks)
        {
            if (s.Type == type) return s;
        }
        return null;
    }

    public PlanState? Plan(string code) => _plans?.Find(p => p.Code == code);

    public bool PlanActiveAt(string plan, DateTimeOffset at) => Plan(plan) is { } p && p.IsActiveAt(at);

    public DateTimeOffset? PlanExpiresAt(string plan) => Plan(plan)?.ExpiresAt;

    public DateTimeOffset? MemberSince => Enrolled ? JoinedAt : null;

    public OrderRecord? Order(string orderId)
    {
        if (_knownOrders is not null && _knownOrders.TryGetValue(orderId, out var known))
        {
            // Its growth may be in the checkpoint: a refund of it changes history behind the horizon.
            if (known is { } old && Horizon is { } horizon && old.OccurredAt < horizon) throw new HistoryNeededException($"order '{orderId}' before {horizon:O}");
            return known;
        }
        if (Horizon is not null && _orderIds.MayContain(orderId)) throw new HistoryNeededException($"order '{orderId}'");
        return null;
    }

    /// <summary>What <paramref name="id"/> was used for, or null when the member never used it.</summary>
    public CallerIdRecord? CallerId(string id)
    {
        if (_knownIds is not null && _knownIds.TryGetValue(id, out var seen)) return ReferenceEquals(seen, Unused) ? null : seen;
        if (Horizon is not null && _callerIds.MayContain(id)) throw new HistoryNeededException($"caller id '{id}'");
        return null;
    }

    /// <summary>True when <see cref="CallerId"/> would have to ask the ledger about <paramref name="id"/>.</summary>
    public bool MustRecall(string id) => Horizon is not null && !(_knownIds?.ContainsKey(id) ?? false) && _callerIds.MayContain(id);

    /// <summary>True when <see cref="Order"/> would have to ask the ledger about <paramref name="orderId"/>.</summary>
    public bool MustRecallOrder(string orderId) => Horizon is not null && !(_knownOrders?.ContainsKey(orderId) ?? false) && _orderIds.MayContain(orderId);

    /// <summary>
    /// Makes the orders <paramref name="asked"/> known exactly again, for the write in progress, from their
    /// earn and clawback entries <paramref name="found"/> in the ledger (in seq order); an order without an
    /// earn entry was never paid (the filter's "maybe" was wrong). False when one is dated before the horizon:
    /// its growth may be in the checkpoint, so only the whole history answers a write about it.
    /// </summary>
    public bool RecallOrders(IReadOnlyCollection<string> asked, IEnumerable<LedgerEntry> found)
    {
        _knownOrders ??= new(StringComparer.Ordinal);
        foreach (var id in asked) _knownOrders.TryAdd(id, null);
        foreach (var e in found)
        {
            if (e.OrderId is not { } id) continue;
            if (e.Kind == LedgerKinds.Earn && e.Amount is not null) _knownOrders[id] = OrderRecord.Of(e);
            else if (e.Kind == LedgerKinds.Clawback && _knownOrders.GetValueOrDefault(id) is { } order) _knownOrders[id] = order.After(e);
        }
        return Horizon is not { } horizon || asked.All(id => _knownOrders[id] is not { } o || o.OccurredAt >= horizon);
    }

    /// <summary>
    /// Makes the caller ids <paramref name="asked"/> known exactly again, for the write in progress: those
    /// the ledger <paramref name="found"/> as used, the others as unused (the filter's "maybe" was wrong).
    /// </summary>
    public void Recall(IReadOnlyCollection<string> asked, IEnumerable<LedgerEntry> found)
    {
        _knownIds ??= new(StringComparer.Ordinal);
        foreach (var id in asked) _knownIds.TryAdd(id, Unused);
        foreach (var e in found)
        {
            if (e.EventId is { } id) _knownIds[id] = new CallerIdRecord(e.Kind, e.BodyHash, e.Seq, e.Response);
        }
    }

    /// <summary>An id the ledger confirmed the member never used.</summary>
    private static readonly CallerIdRecord Unused = new("unused", null, 0, null);

    /// <summary>Balance at <paramref name="t"/>: live buckets minus debt.</summary>
    public long BalanceAt(DateTimeOffset t)
    {
        var sum = -Debt;
        foreach (var b in _buckets)
        {
            if (b.Remaining > 0 && b.IsLiveAt(t)) sum += b.Remaining;
        }
        return sum;
    }

    // ---- the fold of entries ----------------------------------------------------------------------------

    /// <summary>
    /// Folds one entry into the state. Entries must come in seq order. An entry that changes history behind
    /// the horizon (a late earning, a refund of a folded order) cannot be folded into a bounded state.
    /// </summary>
    public void Apply(LedgerEntry e)
    {
        if (Horizon is { } horizon && e.Kind is LedgerKinds.Earn or LedgerKinds.Clawback or LedgerKinds.Accrual
            && (e.OccurredAt < horizon || (e.Kind == LedgerKinds.Clawback && e.Growth != 0 && !OrderGrowthIsHere(e, horizon))
                || (e.Runs is { } runs && runs.Any(r => r.From < horizon))))
        {
            throw new HistoryNeededException($"entry {e.Seq} changes history before {horizon:O}");
        }
        LastSeq = e.Seq;
        if (e.Seq == 1) _firstRecordedTicks = e.RecordedAt.UtcTicks;
        if (e.RecordedAt.UtcTicks > _lastRecordedTicks) _lastRecordedTicks = e.RecordedAt.UtcTicks;
        LedgerPoints += e.Points;
        if (e.EventId is { } id)
        {
            _callerIds.Add(id);
            // While nothing is folded the state knows every id; after a fold only those of the write in progress.
            (_knownIds ??= new(StringComparer.Ordinal))[id] = new CallerIdRecord(e.Kind, e.BodyHash, e.Seq, e.Response);
        }
        if (e.Counters is not null || e.Kind is LedgerKinds.Enroll or LedgerKinds.BenefitUse or LedgerKinds.Subscription or LedgerKinds.Tier) FactsRevision++;
        // The member's own writes count as activity (enrolment too); what the engine derives (re-grades, expiries) does not.
        if ((e.EventId is not null || e.Kind == LedgerKinds.Enroll) && e.Kind != LedgerKinds.Tier && e.Kind != LedgerKinds.Expire)
        {
            LastActivityAt = LastActivityAt is { } last && last > e.OccurredAt ? last : e.OccurredAt;
        }

        switch (e.Kind)
        {
            case LedgerKinds.Enroll:
                if (!Enrolled) JoinedAt = e.OccurredAt;
                Enrolled = true;
                if (e.Birthday is not null) Birthday = e.Birthday.Length == 0 ? null : e.Birthday;
                break;
            case LedgerKinds.Earn:
                ApplyEarn(e);
                break;
            case LedgerKinds.Clawback:
                ApplyClawback(e);
                break;
            case LedgerKinds.Redeem:
                Draw(e.Draws);
                break;
            case LedgerKinds.Expire:
                ChangeBucket(e.BucketSeq, e.Points);
                break;
            case LedgerKinds.BenefitUse:
                EnrollImplicitly(e.OccurredAt);
                Add(ref _benefitUses, UseKey(e.BenefitCode!, e.Period!), 1);
                break;
            case LedgerKinds.Subscription:
                EnrollImplicitly(e.OccurredAt);
                var plan = e.Plan!;
                var before = Plan(plan);
                _plans ??= [];
                _plans.Remove(before!);
                _plans.Add((before ?? PlanState.New(plan)).With(e));
                LastPlan = plan;
                break;
            case LedgerKinds.Tier:
                ReportedTier = e.TierTo;
                ReportedTierSince = e.TierSince ?? e.OccurredAt;
                ReportedTierAt = e.OccurredAt;
                break;
            case LedgerKinds.Accrual:
                LifetimeGrowth += e.Growth;
                foreach (var run in e.Runs ?? [])
                {
                    if (run.PerDay == 0) continue;
                    InsertGrowth(new GrowthRecord(e.Seq, run.From, run.PerDay, run.Days));
                    if (run.Days > 1) HasRuns = true;
                }
                break;
        }
    }

    /// <summary>Takes <see cref="FirstRecordedAt"/> from the member's first entry, for a snapshot taken before states kept it.</summary>
    public void RecallFirst(LedgerEntry first)
    {
        if (first.Seq == 1) _firstRecordedTicks = first.RecordedAt.UtcTicks;
    }

    /// <summary>An event, a plan action or a benefit use for an unknown member enrolls it at that instant.</summary>
    private void EnrollImplicitly(DateTimeOffset at)
    {
        if (Enrolled) return;
        Enrolled = true;
        JoinedAt = at;
        FactsRevision++;
    }

    private void ApplyEarn(LedgerEntry e)
    {
        EnrollImplicitly(e.OccurredAt);
        LifetimeGrowth += e.Growth;
        if (e.Growth != 0) InsertGrowth(new GrowthRecord(e.Seq, e.OccurredAt, e.Growth));
        Debt -= e.DebtPaid;
        var intoBucket = e.Points - e.DebtPaid;
        if (intoBucket > 0 || e.Points > 0) Append(_buckets, new PointBucket(e.Seq, e.OccurredAt, e.BucketExpiresAt, intoBucket));
        if (e.Note is null && e.EventType is { } type)
        {
            if (e.Period is { } day) AddDayCount(type, DayNumber(day));
            Add(ref _memberCounts, type, 1);
        }
        AddCounters(e.Counters);
        if (e.Uses is { } uses)
        {
            foreach (var key in uses) AddPeriodUse(key, e.Growth, e.Points);
        }
        if (e.StreakPeriod is { } streakPeriod && e.EventType is { } streakType) SetStreak(streakType, PeriodNumber(streakPeriod), e.Streak);
        if (e.OrderId is { } orderId && e.Amount is not null)
        {
            _orderIds.Add(orderId);
            (_knownOrders ??= new(StringComparer.Ordinal))[orderId] = OrderRecord.Of(e);
        }
    }

    /// <summary>The seq of a clawback's order's earn entry: the entry says it; entries written before it did, the known order.</summary>
    private long? EarnSeqOf(LedgerEntry clawback)
        => clawback.OrderSeq ?? (clawback.OrderId is { } id && _knownOrders?.GetValueOrDefault(id) is { } order ? order.EarnSeq : null);

    /// <summary>True when the growth record a clawback changes is in the state and dated from the horizon on.</summary>
    private bool OrderGrowthIsHere(LedgerEntry clawback, DateTimeOffset horizon)
        => GrowthIndex(EarnSeqOf(clawback)) is var i && i >= 0 && _growth[i].OccurredAt >= horizon;

    /// <summary>Where the growth record of the earn entry <paramref name="seq"/> is; -1: none (no growth, or folded).</summary>
    private int GrowthIndex(long? seq) => seq is null ? -1 : _growth.FindIndex(r => r.Seq == seq);

    private void ApplyClawback(LedgerEntry e)
    {
        EnrollImplicitly(e.OccurredAt);
        LifetimeGrowth += e.Growth;
        var g = GrowthIndex(EarnSeqOf(e));
        if (e.OrderId is { } orderId && _knownOrders?.GetValueOrDefault(orderId) is { } order) _knownOrders[orderId] = order.After(e);
        if (g >= 0)
        {
            _growth[g] = _growth[g].WithAmount(_growth[g].Amount + e.Growth);
            _growthEdits++;
        }
        Draw(e.Draws);
        Debt += e.DebtAdded;
        AddCounters(e.Counters);
    }

    private void Draw(IReadOnlyList<BucketDraw>? draws)
    {
        if (draws is null) return;
        foreach (var d in draws) ChangeBucket(d.BucketSeq, -d.Points);
    }

    private void ChangeBucket(long? bucketSeq, long points)
    {
        var i = _buckets.FindIndex(b => b.Seq == bucketSeq);
        if (i >= 0) _buckets[i] = _buckets[i].WithRemaining(_buckets[i].Remaining + points);
    }

    private void AddCounters(IReadOnlyDictionary<string, int>? counters)
    {
        if (counters is null) return;
        foreach (var (name, n) in counters) Add(ref _counters, name, n);
    }

    private void InsertGrowth(GrowthRecord record)
    {
        // Keep (occurredAt, seq) order; most events arrive in time order, so search from the end.
        var i = _growth.Count;
        while (i > 0 && _growth[i - 1].OccurredAt > record.OccurredAt) i--;
        if (_growth.Count == _growth.Capacity) _growth.Capacity = _growth.Count + Math.Max(GrowBy, _growth.Count / 4);
        if (i < _growth.Count) _growthEdits++;
        _growth.Insert(i, record);
    }

    /// <summary>Lists grow by a quarter, at least a few rows, not by doubling: a member's lists are short and many.</summary>
    private const int GrowBy = 4;

    private static void Append<T>(List<T> list, T item)
    {
        if (list.Count == list.Capacity) list.Capacity = list.Count + Math.Max(GrowBy, list.Count / 4);
        list.Add(item);
    }

    /// <summary>An order's growth now: its growth record's (none when it earned no growth).</summary>
    public long GrowthOf(OrderRecord order)
    {
        foreach (var r in _growth)
        {
            if (r.Seq == order.EarnSeq) return r.Amount;
        }
        return 0;
    }

    private void AddPeriodUse(string key, long growth, long points)
    {
        _periodUses ??= [];
        var i = _periodUses.FindIndex(u => u.Key == key);
        if (i >= 0) _periodUses[i] = _periodUses[i] with { Count = _periodUses[i].Count + 1, Growth = _periodUses[i].Growth + growth, Points = _periodUses[i].Points + points };
        else _periodUses.Add(new PeriodUse(key, 1, growth, points));
    }

    /// <summary>A streak period key as a number: yyyymmdd for a day, yyyymm for a month.</summary>
    public static int PeriodNumber(string period)
        => period.Length >= 10 ? DayNumber(period) : int.Parse(period.AsSpan(0, 4), CultureInfo.InvariantCulture) * 100 + int.Parse(period.AsSpan(5, 2), CultureInfo.InvariantCulture);

    private void SetStreak(string type, int period, int length)
    {
        _streaks ??= [];
        var i = _streaks.FindIndex(x => x.Type == type);
        if (i >= 0) _streaks[i] = new StreakState(type, period, length);
        else _streaks.Add(new StreakState(type, period, length));
    }

    private void AddDayCount(string type, int day)
    {
        _dayCounts ??= [];
        var i = _dayCounts.FindIndex(c => c.Day == day && c.Type == type);
        if (i >= 0) _dayCounts[i] = _dayCounts[i] with { Count = _dayCounts[i].Count + 1 };
        else _dayCounts.Add(new DayCount(type, day, 1));
    }

    private static long Get(List<Tally>? tallies, string key)
    {
        if (tallies is null) return 0;
        foreach (var t in tallies)
        {
            if (t.Key == key) return t.Count;
        }
        return 0;
    }

    private static void Add(ref List<Tally>? tallies, string key, long n)
    {
        tallies ??= [];
        var i = tallies.FindIndex(t => t.Key == key);
        if (i >= 0) tallies[i] = tallies[i] with { Count = tallies[i].Count + n };
        else tallies.Add(new Tally(key, n));
    }

    // ---- bounding ---------------------------------------------------------------------------------------

    /// <summary>
    /// Folds what the program's windows no longer need at <paramref name="now"/> (see the class summary).
    /// Every answer the state gives for an instant from its horizon on is the one the whole history gives.
    /// </summary>
    public void Fold(MembershipProgram program, DateTimeOffset now)
    {
        _knownIds = null;
        _knownOrders = null;
        _buckets.RemoveAll(b => b.Remaining == 0);
        var month = program.PeriodKey(QuotaPeriod.Month, now);
        var year = program.PeriodKey(QuotaPeriod.Year, now);
        var day = program.DayKey(now);
        _benefitUses?.RemoveAll(u => !IsCurrentPeriod(u.Key, day, month, year));

        // A member that has not joined has no history: a checkpoint now would start its tier at year 1.
        if (!Enrolled) return;
        // The horizon moves a day at a time: a write in between folds only buckets and benefit uses.
        var horizon = now.AddDays(-program.RefundableDays);
        // Growth that time brings is computed from the last write on: it needs the plans and growth after it.
        if (program.HasTimeGrowth && LastRecordedAt is { } settled && settled < horizon) horizon = settled;
        if (Horizon is { } h && horizon < h.AddDays(1)) return;
        if (Checkpoint is not null && horizon < Checkpoint.At) return;
        if (HasRuns) HasRuns = TierPolicy.SplitRuns(program, _growth, horizon);
        var (checkpoint, dropped) = TierPolicy.Fold(program, _growth, Checkpoint, JoinedAt, horizon);
        Checkpoint = checkpoint;
        _growth.RemoveRange(0, dropped);
        _growthEdits++;
        _plans = _plans?.ConvertAll(p => p.Folded(horizon));
        var firstDay = DayNumber(program.DayKey(now.AddDays(-DayCountDays)));
        var droppedCounts = _dayCounts?.RemoveAll(c => c.Day < firstDay) > 0;
        // A month's count stays while any of its days may still be counted.
        var droppedUses = _periodUses?.RemoveAll(u => PeriodEndDay(u.Period) < firstDay) > 0;
        if (droppedCounts || droppedUses || DayHorizon != 0) DayHorizon = Math.Max(DayHorizon, firstDay);
        Horizon = horizon;
        TrimExcess();
    }

    /// <summary>The last day (yyyymmdd) of a day or month period key.</summary>
    private static int PeriodEndDay(ReadOnlySpan<char> period)
    {
        var start = PeriodStartDay(period);
        return period.Length >= 10 ? start : start + DateTime.DaysInMonth(start / 10000, start / 100 % 100) - 1;
    }

    /// <summary>A use counts in the current day, month or year, or for life.</summary>
    private static bool IsCurrentPeriod(string useKey, string day, string month, string year)
    {
        var period = useKey.AsSpan(useKey.IndexOf('|') + 1);
        if (period.SequenceEqual(ProgramCalendar.LifetimePeriod)) return true;
        return period.Length switch
        {
            10 => period.SequenceEqual(day),
            7 => period.SequenceEqual(month),
            4 => period.SequenceEqual(year),
            _ => true,
        };
    }

    /// <summary>Lists that a history outgrew give back what they no longer use.</summary>
    private void TrimExcess()
    {
        if (_growth.Capacity > _growth.Count + GrowBy) _growth.Capacity = _growth.Count;
        if (_buckets.Capacity > _buckets.Count + GrowBy) _buckets.Capacity = _buckets.Count;
        if (_periodUses is { } uses && uses.Capacity > uses.Count + GrowBy) uses.Capacity = uses.Count;
    }

    /// <summary>Rebuilds a state from entries in seq order: the whole history, nothing folded.</summary>
    public static MemberState Replay(IEnumerable<LedgerEntry> entries)
    {
        var state = new MemberState();
        foreach (var e in entries) state.Apply(e);
        return state;
    }
}
