using Orleans.Membership.Domain.Collections;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// Points earned by one entry that have not been spent, clawed back or expired. A value: a member's buckets
/// are one array of them, not an object per bucket for the collector to walk.
/// </summary>
/// <remarks>
/// It holds no references: buckets are appended in place to an array that has usually been promoted to
/// an old generation, and a reference there to a new object (the order id string it once kept) is one
/// more old-to-young pointer every young collection must find and follow (tools/GcCensus: gen0 pauses
/// about 40% shorter without it). The order a bucket came from is in the ledger entry of its seq.
/// </remarks>
public readonly struct PointBucket(long seq, DateTimeOffset earnedAt, DateTimeOffset? expiresAt, long remaining)
{
    /// <summary>The seq of the earn entry that created the bucket: its identity.</summary>
    public long Seq { get; } = seq;
    public DateTimeOffset EarnedAt { get; } = earnedAt;
    /// <summary>Exclusive end of the bucket's life; null: never expires.</summary>
    public DateTimeOffset? ExpiresAt { get; } = expiresAt;
    public long Remaining { get; } = remaining;

    public bool IsLiveAt(DateTimeOffset t) => ExpiresAt is not { } end || t < end;
    public PointBucket WithRemaining(long remaining) => new(Seq, EarnedAt, ExpiresAt, remaining);
}

/// <summary>
/// A paid order as refunds need it: what was paid, refunded, and what it earned. A value, kept in the
/// member's <see cref="OrderTable"/> under its order id; a refund stores a changed copy.
/// </summary>
public readonly record struct OrderRecord
{
    public required string EventType { get; init; }
    public required long EarnSeq { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required decimal Paid { get; init; }
    public decimal Refunded { get; init; }
    public long Growth { get; init; }
    public long Points { get; init; }
    public decimal? GrowthFactor { get; init; }
    public decimal? PointsFactor { get; init; }
    public IReadOnlyDictionary<string, int>? Counters { get; init; }
    public bool CountersTakenBack { get; init; }

    public decimal Unrefunded => Paid - Refunded;
}

/// <summary>One paid or trial term of a plan: [Start, End).</summary>
[GenerateSerializer, Immutable, Alias("plan-term")]
public sealed record PlanTerm([property: Id(0)] DateTimeOffset Start, [property: Id(1)] DateTimeOffset End, [property: Id(2)] bool IsTrial);

/// <summary>A member's history with one plan, changed in place by the member's writes.</summary>
public sealed class PlanState
{
    public List<PlanTerm> Terms { get; init; } = [];
    public bool TrialUsed { get; set; }
    public bool Cancelled { get; set; }
    public DateTimeOffset? LastChangeAt { get; set; }

    public DateTimeOffset? ExpiresAt => Terms.Count == 0 ? null : Terms.Max(t => t.End);
    public bool IsActiveAt(DateTimeOffset t)
    {
        foreach (var term in Terms)
        {
            if (term.Start <= t && t < term.End) return true;
        }
        return false;
    }

    public PlanState Clone() => new() { Terms = [.. Terms], TrialUsed = TrialUsed, Cancelled = Cancelled, LastChangeAt = LastChangeAt };
}

/// <summary>What a caller id was used for: the body fingerprint, and the first answer.</summary>
public sealed record CallerIdRecord(string Kind, string? BodyHash, long Seq, string? Response);

/// <summary>
/// A member's whole working state, rebuilt by folding its ledger entries with <see cref="Apply"/>.
/// It is changed in place: a write folds its entries into the member's one state as the rules emit
/// them, and the grain makes them durable before anyone reads the result; a write that fails is undone
/// from the change's journal (<see cref="UndoChange"/>). One state per member, not a version per
/// write: each write allocates only the rows it adds, and nothing it leaves behind references a young
/// object, which is what keeps young collections short while festival ingest runs (docs/architecture.md).
/// Not thread-safe: only the member's own activation touches it; other threads read the immutable
/// <see cref="BenefitFacts"/> it publishes.
/// </summary>
public sealed class MemberState : IBenefitFacts
{
    /// <summary>The member's single values, together so a change can save and restore them at once.</summary>
    private struct Values
    {
        public bool Enrolled;
        public DateTimeOffset JoinedAt;
        public string? Birthday;
        public long LastSeq;
        public DateTimeOffset? LastActivityAt;
        public long LifetimeGrowth;
        public long LedgerPoints;
        public long Debt;
        public string? ReportedTier;
        public DateTimeOffset? ReportedTierSince;
        public string? LastPlan;
        public long FactsRevision;
    }

    private Values _v;

    public bool Enrolled { get => _v.Enrolled; private set => _v.Enrolled = value; }
    public DateTimeOffset JoinedAt { get => _v.JoinedAt; private set => _v.JoinedAt = value; }
    public string? Birthday { get => _v.Birthday; private set => _v.Birthday = value; }
    public long LastSeq { get => _v.LastSeq; private set => _v.LastSeq = value; }
    public DateTimeOffset? LastActivityAt { get => _v.LastActivityAt; private set => _v.LastActivityAt = value; }
    public long LifetimeGrowth { get => _v.LifetimeGrowth; private set => _v.LifetimeGrowth = value; }
    /// <summary>The sum of points over all entries: always the balance once due expiries are written.</summary>
    public long LedgerPoints { get => _v.LedgerPoints; private set => _v.LedgerPoints = value; }
    public long Debt { get => _v.Debt; private set => _v.Debt = value; }
    public string? ReportedTier { get => _v.ReportedTier; private set => _v.ReportedTier = value; }
    public DateTimeOffset? ReportedTierSince { get => _v.ReportedTierSince; private set => _v.ReportedTierSince = value; }
    public string? LastPlan { get => _v.LastPlan; private set => _v.LastPlan = value; }

    /// <summary>Growth history in (occurredAt, seq) order, the input of <see cref="TierPolicy"/>.</summary>
    public RowList<GrowthRecord> Growth { get; private set; } = new();
    public RowList<PointBucket> Buckets { get; private set; } = new();
    public OrderTable Orders { get; private set; } = new();
    private Dictionary<string, int> _dayCounts = new(StringComparer.Ordinal);
    private Dictionary<string, int> _memberCounts = new(StringComparer.Ordinal);
    private Dictionary<string, long> _counters = new(StringComparer.Ordinal);
    private Dictionary<string, int> _benefitUses = new(StringComparer.Ordinal);
    private Dictionary<string, PlanState> _plans = new(StringComparer.Ordinal);
    public IReadOnlyDictionary<string, int> DayCounts => _dayCounts;
    public IReadOnlyDictionary<string, int> MemberCounts => _memberCounts;
    public IReadOnlyDictionary<string, long> Counters => _counters;
    public IReadOnlyDictionary<string, int> BenefitUses => _benefitUses;
    public IReadOnlyDictionary<string, PlanState> Plans => _plans;
    public CallerIdTable CallerIds { get; private set; } = new();

    /// <summary>Where the last tier evaluation of this state got to; not part of the member.</summary>
    internal TierCursor? TierCursor { get; set; }

    /// <summary>Increases with every applied entry; lets readers cache derived values.</summary>
    public long Revision => LastSeq;

    /// <summary>
    /// Increases with every entry that changes what <see cref="BenefitFacts"/> holds apart from the tier
    /// (enrollment and birthday, plans, benefit uses, counters, reported tier): a published view with
    /// the same value and the same tier is still exact.
    /// </summary>
    public long FactsRevision { get => _v.FactsRevision; private set => _v.FactsRevision = value; }

    // ---- changes that can be undone -------------------------------------------------------------------

    /// <summary>
    /// How to undo each in-place change of the open change, in order; reused from change to change. Steps
    /// are plain values, not closures: journaling a change allocates nothing once the list has grown.
    /// </summary>
    private List<UndoStep>? _journal;
    private bool _open;
    private Values _before;

    /// <summary>
    /// Opens a change: until <see cref="CommitChange"/> or <see cref="UndoChange"/>, every entry folded in
    /// records how to take it back. A write's entries are folded in before they are durable; a failed
    /// append (or a rule that throws) takes them back, leaving the state exactly as it was.
    /// </summary>
    public void BeginChange()
    {
        if (_open) throw new InvalidOperationException("a change of this member is already open");
        _journal ??= [];
        _before = _v;
        _open = true;
    }

    /// <summary>Keeps what the open change folded in.</summary>
    public void CommitChange()
    {
        if (!_open) throw new InvalidOperationException("no change of this member is open");
        EndChange();
    }

    /// <summary>Takes back everything the open change folded in, last first.</summary>
    public void UndoChange()
    {
        if (!_open) throw new InvalidOperationException("no change of this member is open");
        for (var i = _journal!.Count - 1; i >= 0; i--) Revert(_journal[i]);
        _v = _before;
        EndChange();
    }

    private void EndChange()
    {
        if (_journal!.Count > KeptJournalSteps) _journal = null;
        else _journal.Clear();
        _open = false;
    }

    private enum UndoKind : byte
    {
        RemoveLastCallerId, RemoveLastBucket, SetBucket, RemoveGrowth, SetGrowth, RemoveLastOrder, SetOrder,
        RemoveCount, SetCount, RemoveCounter, SetCounter, RemovePlan, SetPlan,
    }

    /// <summary>One journaled change: what to do to take it back, and the value it replaced.</summary>
    private struct UndoStep
    {
        public UndoKind Kind;
        public int Index;
        public string? Key;
        public Dictionary<string, int>? Counts;
        public long Number;
        /// <summary>The replaced order, plan or (boxed: rare) bucket or growth row.</summary>
        public object? Old;
    }

    /// <summary>A journal longer than this (a large batch for one member) is let go after its change, not kept.</summary>
    private const int KeptJournalSteps = 64;

    private void Journal(in UndoStep step)
    {
        if (_open) _journal!.Add(step);
    }

    private void Revert(in UndoStep step)
    {
        switch (step.Kind)
        {
            case UndoKind.RemoveLastCallerId: CallerIds.RemoveLast(); break;
            case UndoKind.RemoveLastBucket: Buckets.RemoveLast(); break;
            case UndoKind.SetBucket: Buckets[step.Index] = (PointBucket)step.Old!; break;
            case UndoKind.RemoveGrowth: Growth.RemoveAt(step.Index); break;
            case UndoKind.SetGrowth: Growth[step.Index] = (GrowthRecord)step.Old!; break;
            case UndoKind.RemoveLastOrder: Orders.RemoveLast(); break;
            case UndoKind.SetOrder: Orders.SetItem(step.Key!, (OrderRecord)step.Old!); break;
            case UndoKind.RemoveCount: step.Counts!.Remove(step.Key!); break;
            case UndoKind.SetCount: step.Counts![step.Key!] = (int)step.Number; break;
            case UndoKind.RemoveCounter: _counters.Remove(step.Key!); break;
            case UndoKind.SetCounter: _counters[step.Key!] = step.Number; break;
            case UndoKind.RemovePlan: _plans.Remove(step.Key!); break;
            case UndoKind.SetPlan: _plans[step.Key!] = (PlanState)step.Old!; break;
        }
    }

    /// <summary>Adds <paramref name="n"/> to <paramref name="key"/>'s count in <paramref name="counts"/>, journaled.</summary>
    private void AddCount(Dictionary<string, int> counts, string key, int n)
    {
        var exists = counts.TryGetValue(key, out var old);
        Journal(new UndoStep { Kind = exists ? UndoKind.SetCount : UndoKind.RemoveCount, Counts = counts, Key = key, Number = old });
        counts[key] = old + n;
    }

    public int? BirthMonth => Birthday is { Length: 5 } b ? int.Parse(b.AsSpan(0, 2), System.Globalization.CultureInfo.InvariantCulture) : null;

    public int BenefitUsesIn(string code, string period)
        => _benefitUses.TryGetValue(UseKey(code, period), out var n) ? n : 0;

    public bool PlanActiveAt(string plan, DateTimeOffset at) => _plans.TryGetValue(plan, out var p) && p.IsActiveAt(at);

    public long Counter(string name) => _counters.GetValueOrDefault(name);

    public static string UseKey(string code, string period) => string.Concat(code, "|", period);
    /// <summary>How many events of <paramref name="type"/> counted on <paramref name="day"/>.</summary>
    public int DayCount(string type, string day)
    {
        var length = DayCountKeyLength(type, day);
        Span<char> chars = length <= MaxStackKey ? stackalloc char[length] : new char[length];
        return _dayCounts.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(WriteDayCountKey(chars, type, day), out var n) ? n : 0;
    }

    // A day's count is looked up and raised through its key's characters: a key string is made only for
    // a day's first event of a type, not for every event (nor kept by the change's journal).
    private const int MaxStackKey = 256;
    private static int DayCountKeyLength(string type, string day) => type.Length + 1 + day.Length;

    /// <summary>A day count's key: <c>{type}|{yyyy-MM-dd}</c> (as snapshots keep it).</summary>
    private static ReadOnlySpan<char> WriteDayCountKey(Span<char> into, string type, string day)
    {
        type.CopyTo(into);
        into[type.Length] = '|';
        day.CopyTo(into[(type.Length + 1)..]);
        return into;
    }

    private void AddDayCount(string type, string day)
    {
        var length = DayCountKeyLength(type, day);
        Span<char> chars = length <= MaxStackKey ? stackalloc char[length] : new char[length];
        var key = WriteDayCountKey(chars, type, day);
        if (_dayCounts.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out var existing, out _)) AddCount(_dayCounts, existing, 1);
        else AddCount(_dayCounts, key.ToString(), 1);
    }

    /// <summary>Balance at <paramref name="t"/>: live buckets minus debt.</summary>
    public long BalanceAt(DateTimeOffset t)
    {
        long sum = -Debt;
        foreach (var b in Buckets)
        {
            if (b.Remaining > 0 && b.IsLiveAt(t)) sum += b.Remaining;
        }
        return sum;
    }

    /// <summary>Folds one entry into the state. Entries must come in seq order.</summary>
    public void Apply(LedgerEntry e)
    {
        LastSeq = e.Seq;
        LedgerPoints += e.Points;
        if (e.EventId is { } id && CallerIds.Add(id, e.Kind, e.BodyHash, e.Seq, e.Response)) Journal(new UndoStep { Kind = UndoKind.RemoveLastCallerId });
        if (e.Counters is not null || e.Kind is LedgerKinds.Enroll or LedgerKinds.BenefitUse or LedgerKinds.Subscription or LedgerKinds.Tier) FactsRevision++;
        if (e.EventId is not null && e.Kind != LedgerKinds.Tier && e.Kind != LedgerKinds.Expire)
        {
            LastActivityAt = LastActivityAt is { } last && last > e.OccurredAt ? last : e.OccurredAt;
        }

        switch (e.Kind)
        {
            case LedgerKinds.Enroll:
                if (!Enrolled) JoinedAt = e.OccurredAt;
                Enrolled = true;
                if (e.Birthday is not null) Birthday = e.Birthday;
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
                AddCount(_benefitUses, UseKey(e.BenefitCode!, e.Period!), 1);
                break;
            case LedgerKinds.Subscription:
                ApplySubscription(e);
                break;
            case LedgerKinds.Tier:
                ReportedTier = e.TierTo;
                ReportedTierSince = e.OccurredAt;
                break;
        }
    }

    /// <summary>An event or a plan action for an unknown member enrolls it at that instant.</summary>
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
        if (intoBucket > 0 || e.Points > 0)
        {
            Buckets.Add(new PointBucket(e.Seq, e.OccurredAt, e.BucketExpiresAt, intoBucket));
            Journal(new UndoStep { Kind = UndoKind.RemoveLastBucket });
        }
        if (e.Note is null && e.EventType is { } type)
        {
            if (e.Period is { } day)
            {
                AddDayCount(type, day);
            }
            AddCount(_memberCounts, type, 1);
        }
        AddCounters(e.Counters);
        if (e.OrderId is { } orderId && e.Amount is { } paid)
        {
            SetOrder(orderId, new OrderRecord
            {
                EventType = e.EventType ?? "",
                EarnSeq = e.Seq,
                OccurredAt = e.OccurredAt,
                Paid = paid,
                Growth = e.Growth,
                Points = e.Points,
                GrowthFactor = e.GrowthFactor,
                PointsFactor = e.Multiplier,
                Counters = e.Counters,
            });
        }
    }

    private void ApplyClawback(LedgerEntry e)
    {
        EnrollImplicitly(e.OccurredAt);
        LifetimeGrowth += e.Growth;
        if (e.OrderId is { } orderId && Orders.TryGetValue(orderId, out var order))
        {
            SetOrder(orderId, order with
            {
                Refunded = order.Refunded + (e.Amount ?? 0),
                Growth = order.Growth + e.Growth,
                Points = order.Points + e.Points,
                CountersTakenBack = order.CountersTakenBack || e.Counters is not null,
            });
            for (var i = 0; i < Growth.Count; i++)
            {
                if (Growth[i].Seq == order.EarnSeq) SetGrowth(i, Growth[i].WithAmount(Growth[i].Amount + e.Growth));
            }
        }
        Draw(e.Draws);
        Debt += e.DebtAdded;
        AddCounters(e.Counters);
    }

    private void ApplySubscription(LedgerEntry e)
    {
        EnrollImplicitly(e.OccurredAt);
        var plan = e.Plan!;
        // A new object for the plan, so the one in force stays as it was until the change is kept.
        var hadPlan = _plans.TryGetValue(plan, out var before);
        var state = hadPlan ? before!.Clone() : new PlanState();
        Journal(new UndoStep { Kind = hadPlan ? UndoKind.SetPlan : UndoKind.RemovePlan, Key = plan, Old = before });
        _plans[plan] = state;
        LastPlan = plan;
        state.LastChangeAt = e.OccurredAt;
        switch (e.PlanAction)
        {
            case "trial":
                state.TrialUsed = true;
                state.Terms.Add(new PlanTerm(e.PlanStartsAt!.Value, e.PlanExpiresAt!.Value, IsTrial: true));
                break;
            case "purchase":
                state.Cancelled = false;
                state.Terms.Add(new PlanTerm(e.PlanStartsAt!.Value, e.PlanExpiresAt!.Value, IsTrial: false));
                break;
            case "cancel":
                state.Cancelled = true;
                break;
        }
    }

    private void Draw(IReadOnlyList<BucketDraw>? draws)
    {
        if (draws is null) return;
        foreach (var d in draws) ChangeBucket(d.BucketSeq, -d.Points);
    }

    private void ChangeBucket(long? bucketSeq, long points)
    {
        for (var i = 0; i < Buckets.Count; i++)
        {
            if (Buckets[i].Seq == bucketSeq)
            {
                if (_open) Journal(new UndoStep { Kind = UndoKind.SetBucket, Index = i, Old = Buckets[i] });
                Buckets[i] = Buckets[i].WithRemaining(Buckets[i].Remaining + points);
            }
        }
    }

    private void AddCounters(IReadOnlyDictionary<string, int>? counters)
    {
        if (counters is null) return;
        foreach (var (name, n) in counters)
        {
            var exists = _counters.TryGetValue(name, out var old);
            Journal(new UndoStep { Kind = exists ? UndoKind.SetCounter : UndoKind.RemoveCounter, Key = name, Number = old });
            _counters[name] = old + n;
        }
    }

    private void InsertGrowth(GrowthRecord record)
    {
        // Keep (occurredAt, seq) order; most events arrive in time order, so search from the end.
        var i = Growth.Count;
        while (i > 0 && Growth[i - 1].OccurredAt > record.OccurredAt) i--;
        Growth.Insert(i, record);
        Journal(new UndoStep { Kind = UndoKind.RemoveGrowth, Index = i });
    }

    private void SetGrowth(int index, GrowthRecord row)
    {
        if (_open) Journal(new UndoStep { Kind = UndoKind.SetGrowth, Index = index, Old = Growth[index] });
        Growth[index] = row;
    }

    private void SetOrder(string orderId, OrderRecord order)
    {
        if (_open)
        {
            Journal(Orders.TryGetValue(orderId, out var old)
                ? new UndoStep { Kind = UndoKind.SetOrder, Key = orderId, Old = old }
                : new UndoStep { Kind = UndoKind.RemoveLastOrder });
        }
        Orders.SetItem(orderId, order);
    }

    /// <summary>
    /// A state of its own with the content this one has now (a trial fold, a test's reference copy), with
    /// no change open; the tier cursor is not copied.
    /// </summary>
    public MemberState Clone()
    {
        var copy = (MemberState)MemberwiseClone();
        copy.TierCursor = null;
        copy._journal = null;
        copy._open = false;
        copy.Growth = Growth.Copy();
        copy.Buckets = Buckets.Copy();
        copy.Orders = Orders.Copy();
        copy.CallerIds = CallerIds.Copy();
        copy._dayCounts = new(_dayCounts, StringComparer.Ordinal);
        copy._memberCounts = new(_memberCounts, StringComparer.Ordinal);
        copy._counters = new(_counters, StringComparer.Ordinal);
        copy._benefitUses = new(_benefitUses, StringComparer.Ordinal);
        copy._plans = _plans.ToDictionary(kv => kv.Key, kv => kv.Value.Clone(), StringComparer.Ordinal);
        return copy;
    }

    public MemberSnapshot ToSnapshot() => new()
    {
        Seq = LastSeq,
        Enrolled = Enrolled,
        JoinedAt = JoinedAt,
        Birthday = Birthday,
        LastActivityAt = LastActivityAt,
        LifetimeGrowth = LifetimeGrowth,
        LedgerPoints = LedgerPoints,
        Debt = Debt,
        ReportedTier = ReportedTier,
        ReportedTierSince = ReportedTierSince,
        LastPlan = LastPlan,
        Growth = Growth.Select(g => new GrowthRow(g.Seq, g.OccurredAt, g.Amount)).ToList(),
        Buckets = Buckets.Select(b => new BucketRow(b.Seq, b.EarnedAt, b.ExpiresAt, b.Remaining, null)).ToList(),
        Orders = Orders.Select(kv => OrderRowOf(kv.Key, kv.Value)).ToList(),
        DayCounts = new(DayCounts),
        MemberCounts = new(MemberCounts),
        Counters = new(Counters),
        BenefitUses = new(BenefitUses),
        Plans = Plans.Select(kv => new PlanRow(kv.Key, [.. kv.Value.Terms], kv.Value.TrialUsed, kv.Value.Cancelled, kv.Value.LastChangeAt)).ToList(),
        CallerIds = CallerIds.Select(kv => new CallerIdRow(kv.Key, kv.Value.Kind, kv.Value.BodyHash, kv.Value.Seq, kv.Value.Response)).ToList(),
    };

    private static OrderRow OrderRowOf(string orderId, OrderRecord o) => new(orderId, o.EventType, o.EarnSeq, o.OccurredAt, o.Paid, o.Refunded,
        o.Growth, o.Points, o.GrowthFactor, o.PointsFactor, o.Counters?.ToDictionary(), o.CountersTakenBack);

    public static MemberState FromSnapshot(MemberSnapshot s) => new()
    {
        LastSeq = s.Seq,
        Enrolled = s.Enrolled,
        JoinedAt = s.JoinedAt,
        Birthday = s.Birthday,
        LastActivityAt = s.LastActivityAt,
        LifetimeGrowth = s.LifetimeGrowth,
        LedgerPoints = s.LedgerPoints,
        Debt = s.Debt,
        ReportedTier = s.ReportedTier,
        ReportedTierSince = s.ReportedTierSince,
        LastPlan = s.LastPlan,
        Growth = RowList<GrowthRecord>.From(s.Growth.Select(g => new GrowthRecord(g.Seq, g.OccurredAt, g.Amount))),
        Buckets = RowList<PointBucket>.From(s.Buckets.Select(b => new PointBucket(b.Seq, b.EarnedAt, b.ExpiresAt, b.Remaining))),
        Orders = OrderTable.From(s.Orders.Select(o => KeyValuePair.Create(o.OrderId, new OrderRecord
        {
            EventType = o.EventType, EarnSeq = o.EarnSeq, OccurredAt = o.OccurredAt, Paid = o.Paid, Refunded = o.Refunded,
            Growth = o.Growth, Points = o.Points, GrowthFactor = o.GrowthFactor, PointsFactor = o.PointsFactor, Counters = o.Counters,
            CountersTakenBack = o.CountersTakenBack,
        }))),
        _dayCounts = new(s.DayCounts, StringComparer.Ordinal),
        _memberCounts = new(s.MemberCounts, StringComparer.Ordinal),
        _counters = new(s.Counters, StringComparer.Ordinal),
        _benefitUses = new(s.BenefitUses, StringComparer.Ordinal),
        _plans = s.Plans.ToDictionary(p => p.Plan, p => new PlanState { Terms = [.. p.Terms], TrialUsed = p.TrialUsed, Cancelled = p.Cancelled, LastChangeAt = p.LastChangeAt }, StringComparer.Ordinal),
        CallerIds = CallerIdTable.From(s.CallerIds.Select(c => KeyValuePair.Create(c.Id, new CallerIdRecord(c.Kind, c.BodyHash, c.Seq, c.Response)))),
    };

    /// <summary>Rebuilds a state from entries in seq order.</summary>
    public static MemberState Replay(IEnumerable<LedgerEntry> entries)
    {
        var state = new MemberState();
        foreach (var e in entries) state.Apply(e);
        return state;
    }
}
