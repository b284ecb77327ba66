using System.Collections.Immutable;
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
/// member's order map under its order id; a refund stores a changed copy.
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

/// <summary>A member's history with one plan. Shared between a state and its clones: a change is made on a <see cref="Clone"/>.</summary>
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
/// A write works on a <see cref="Clone"/> and swaps it in after the entries are durable, so readers
/// never see an effect that is not. The containers are persistent (immutable, sharing structure with
/// the versions they came from), so a clone copies nothing and a write allocates only what it changes:
/// a member with a long history costs no more to write than a new one.
/// </summary>
public sealed class MemberState
{
    public bool Enrolled { get; private set; }
    public DateTimeOffset JoinedAt { get; private set; }
    public string? Birthday { get; private set; }
    public long LastSeq { get; private set; }
    public DateTimeOffset? LastActivityAt { get; private set; }
    public long LifetimeGrowth { get; private set; }
    /// <summary>The sum of points over all entries: always the balance once due expiries are written.</summary>
    public long LedgerPoints { get; private set; }
    public long Debt { get; private set; }
    public string? ReportedTier { get; private set; }
    public DateTimeOffset? ReportedTierSince { get; private set; }
    public string? LastPlan { get; private set; }

    /// <summary>Growth history in (occurredAt, seq) order, the input of <see cref="TierPolicy"/>.</summary>
    public RowList<GrowthRecord> Growth { get; private set; } = RowList<GrowthRecord>.Empty;
    public RowList<PointBucket> Buckets { get; private set; } = RowList<PointBucket>.Empty;
    public KeyedRows<OrderRecord> Orders { get; private set; } = KeyedRows<OrderRecord>.Empty;
    public ImmutableDictionary<string, int> DayCounts { get; private set; } = ImmutableDictionary<string, int>.Empty;
    public ImmutableDictionary<string, int> MemberCounts { get; private set; } = ImmutableDictionary<string, int>.Empty;
    public ImmutableDictionary<string, long> Counters { get; private set; } = ImmutableDictionary<string, long>.Empty;
    public ImmutableDictionary<string, int> BenefitUses { get; private set; } = ImmutableDictionary<string, int>.Empty;
    public ImmutableDictionary<string, PlanState> Plans { get; private set; } = ImmutableDictionary<string, PlanState>.Empty;
    public CallerIdTable CallerIds { get; private set; } = CallerIdTable.Empty;

    /// <summary>Where the last tier evaluation of this state (or the one it was cloned from) got to; not part of the member.</summary>
    internal TierCursor? TierCursor { get; set; }

    /// <summary>Increases with every applied entry; lets readers cache derived values.</summary>
    public long Revision => LastSeq;

    public int? BirthMonth => Birthday is { Length: 5 } b ? int.Parse(b.AsSpan(0, 2), System.Globalization.CultureInfo.InvariantCulture) : null;

    public int BenefitUsesIn(string code, string period)
        => BenefitUses.TryGetValue(UseKey(code, period), out var n) ? n : 0;

    public static string UseKey(string code, string period) => string.Concat(code, "|", period);
    public static string DayCountKey(string type, string day) => string.Concat(type, "|", day);

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
        if (e.EventId is { } id) CallerIds = CallerIds.Add(id, e.Kind, e.BodyHash, e.Seq, e.Response);
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
                var key = UseKey(e.BenefitCode!, e.Period!);
                BenefitUses = BenefitUses.SetItem(key, BenefitUsesIn(e.BenefitCode!, e.Period!) + 1);
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
            Buckets = Buckets.Add(new PointBucket(e.Seq, e.OccurredAt, e.BucketExpiresAt, intoBucket));
        }
        if (e.Note is null && e.EventType is { } type)
        {
            if (e.Period is { } day)
            {
                var dayKey = DayCountKey(type, day);
                DayCounts = DayCounts.SetItem(dayKey, DayCounts.GetValueOrDefault(dayKey) + 1);
            }
            MemberCounts = MemberCounts.SetItem(type, MemberCounts.GetValueOrDefault(type) + 1);
        }
        AddCounters(e.Counters);
        if (e.OrderId is { } orderId && e.Amount is { } paid)
        {
            Orders = Orders.SetItem(orderId, new OrderRecord
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
            Orders = Orders.SetItem(orderId, order with
            {
                Refunded = order.Refunded + (e.Amount ?? 0),
                Growth = order.Growth + e.Growth,
                Points = order.Points + e.Points,
                CountersTakenBack = order.CountersTakenBack || e.Counters is not null,
            });
            for (var i = 0; i < Growth.Count; i++)
            {
                if (Growth[i].Seq == order.EarnSeq) Growth = Growth.SetItem(i, Growth[i].WithAmount(Growth[i].Amount + e.Growth));
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
        var state = Plans.TryGetValue(plan, out var shared) ? shared.Clone() : new PlanState();
        Plans = Plans.SetItem(plan, state);
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
            if (Buckets[i].Seq == bucketSeq) Buckets = Buckets.SetItem(i, Buckets[i].WithRemaining(Buckets[i].Remaining + points));
        }
    }

    private void AddCounters(IReadOnlyDictionary<string, int>? counters)
    {
        if (counters is null) return;
        foreach (var (name, n) in counters) Counters = Counters.SetItem(name, Counters.GetValueOrDefault(name) + n);
    }

    private void InsertGrowth(GrowthRecord record)
    {
        // Keep (occurredAt, seq) order; most events arrive in time order, so search from the end.
        var i = Growth.Count;
        while (i > 0 && Growth[i - 1].OccurredAt > record.OccurredAt) i--;
        Growth = Growth.Insert(i, record);
    }

    /// <summary>A copy to write on: the containers are persistent, so it shares them and copies nothing.</summary>
    public MemberState Clone() => (MemberState)MemberwiseClone();

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
        Orders = KeyedRows<OrderRecord>.From(s.Orders.Select(o => KeyValuePair.Create(o.OrderId, new OrderRecord
        {
            EventType = o.EventType, EarnSeq = o.EarnSeq, OccurredAt = o.OccurredAt, Paid = o.Paid, Refunded = o.Refunded,
            Growth = o.Growth, Points = o.Points, GrowthFactor = o.GrowthFactor, PointsFactor = o.PointsFactor, Counters = o.Counters,
            CountersTakenBack = o.CountersTakenBack,
        }))),
        DayCounts = s.DayCounts.ToImmutableDictionary(),
        MemberCounts = s.MemberCounts.ToImmutableDictionary(),
        Counters = s.Counters.ToImmutableDictionary(),
        BenefitUses = s.BenefitUses.ToImmutableDictionary(),
        Plans = s.Plans.ToImmutableDictionary(p => p.Plan, p => new PlanState { Terms = [.. p.Terms], TrialUsed = p.TrialUsed, Cancelled = p.Cancelled, LastChangeAt = p.LastChangeAt }),
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
