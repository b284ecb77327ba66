namespace Orleans.Membership.Domain.Ledger;

/// <summary>The kinds of ledger entry the statement shows (contract names).</summary>
public static class LedgerKinds
{
    public const string Enroll = "enroll";
    public const string Earn = "earn";
    public const string Redeem = "redeem";
    public const string Expire = "expire";
    public const string Clawback = "clawback";
    public const string BenefitUse = "benefit-use";
    public const string Subscription = "subscription";
    public const string Tier = "tier";
    /// <summary>Growth that time brought: days of a plan's accrual, a term's bonus, days of decline without a plan.</summary>
    public const string Accrual = "accrual";
}

/// <summary>
/// One applied change of a member: the unit of durability and the line of the statement.
/// Entries carry their effects, not their causes, so a member's state is a pure fold of its entries
/// (<see cref="Members.MemberState.Apply"/>) and replays identically whatever the program says later.
/// </summary>
[GenerateSerializer, Immutable, Alias("ledger-entry")]
public sealed record LedgerEntry
{
    [Id(0)] private long _seq;
    [Id(3)] private DateTimeOffset _recordedAt;

    public long Seq { get => _seq; init => _seq = value; }
    [Id(1)] public required string Kind { get; init; }
    /// <summary>When the change took effect (the event's occurredAt, a bucket's expiry, a re-grade instant).</summary>
    [Id(2)] public DateTimeOffset OccurredAt { get; init; }
    /// <summary>When the engine wrote it.</summary>
    public DateTimeOffset RecordedAt { get => _recordedAt; init => _recordedAt = value; }

    /// <summary>
    /// Gives a new entry its seq and recording instant as a write emits it (<see cref="Members.MemberWrite.Emit"/>),
    /// before anyone else holds it: the entry is not copied for two fields. Entries are immutable from then on.
    /// </summary>
    internal LedgerEntry Stamp(long seq, DateTimeOffset recordedAt)
    {
        _seq = seq;
        _recordedAt = recordedAt;
        return this;
    }
    /// <summary>The caller's id (eventId, useId, redemptionId, subscriptionEventId); null for derived entries.</summary>
    [Id(4)] public string? EventId { get; init; }
    /// <summary>Fingerprint of the request body, so a reused id with another body is told apart.</summary>
    [Id(5)] public string? BodyHash { get; init; }
    [Id(6)] public long Points { get; init; }
    [Id(7)] public long Growth { get; init; }

    // Effects, by kind. Only the ones that matter for an entry are set.
    [Id(8)] public string? EventType { get; init; }
    [Id(9)] public string? OrderId { get; init; }
    [Id(10)] public decimal? Amount { get; init; }
    /// <summary>earn of a purchase: points per currency unit, multipliers included (null: fixed points); refunds reuse it.</summary>
    [Id(11)] public decimal? Multiplier { get; init; }
    /// <summary>earn: points that paid debt before the rest landed in the bucket.</summary>
    [Id(12)] public long DebtPaid { get; init; }
    /// <summary>earn: the new bucket's expiry (null: never expires); expire: the bucket's.</summary>
    [Id(13)] public DateTimeOffset? BucketExpiresAt { get; init; }
    /// <summary>expire: the seq of the earn entry whose bucket expired.</summary>
    [Id(14)] public long? BucketSeq { get; init; }
    /// <summary>redeem, clawback: points taken from each bucket (by the seq that created it).</summary>
    [Id(15)] public IReadOnlyList<BucketDraw>? Draws { get; init; }
    /// <summary>clawback: points that became debt because the balance could not cover them.</summary>
    [Id(16)] public long DebtAdded { get; init; }
    /// <summary>Why an accepted event earned nothing (e.g. <c>limit:perDay</c>).</summary>
    [Id(17)] public string? Note { get; init; }
    [Id(18)] public IReadOnlyDictionary<string, int>? Counters { get; init; }
    [Id(19)] public string? TierFrom { get; init; }
    [Id(20)] public string? TierTo { get; init; }
    [Id(21)] public DateTimeOffset? TierValidUntil { get; init; }
    [Id(22)] public string? Plan { get; init; }
    [Id(23)] public string? PlanAction { get; init; }
    [Id(24)] public string? PlanTerm { get; init; }
    [Id(25)] public DateTimeOffset? PlanStartsAt { get; init; }
    [Id(26)] public DateTimeOffset? PlanExpiresAt { get; init; }
    [Id(27)] public string? BenefitCode { get; init; }
    /// <summary>benefit-use: the quota period key (<c>2026-11</c>, <c>2026</c>, <c>life</c>); earn: the local day it counts against.</summary>
    [Id(28)] public string? Period { get; init; }
    /// <summary>enroll: the member's birthday, <c>MM-DD</c>; <c>""</c> when it was removed, null when unchanged.</summary>
    [Id(29)] public string? Birthday { get; init; }
    /// <summary>The first answer to a caller-id write, returned again to a replay of the same id.</summary>
    [Id(30)] public string? Response { get; init; }
    [Id(31)] public string? Reason { get; init; }
    /// <summary>earn of a purchase: growth per currency unit (null: the growth was a fixed amount).</summary>
    [Id(32)] public decimal? GrowthFactor { get; init; }
    /// <summary>earn of a purchase whose growth formula reads an attribute: the base it multiplied (a refund lowers it in proportion).</summary>
    [Id(33)] public decimal? GrowthBase { get; init; }
    /// <summary>earn of a purchase whose points formula reads an attribute: the base it multiplied.</summary>
    [Id(34)] public decimal? PointsBase { get; init; }
    /// <summary>earn: growth the caps cut from what the formula gave (the entry's growth is what is left).</summary>
    [Id(35)] public long GrowthCut { get; init; }
    /// <summary>earn: points the caps cut.</summary>
    [Id(36)] public long PointsCut { get; init; }
    /// <summary>earn: the caps that cut, as a person reads them (<c>growth per day 200</c>).</summary>
    [Id(37)] public string? Capped { get; init; }
    /// <summary>earn: the period counts it adds to (<c>{type}|2026-11</c>, <c>{type}|category=food|2026-11-23</c>), for monthly limits and caps.</summary>
    [Id(38)] public IReadOnlyList<string>? Uses { get; init; }
    /// <summary>earn: the length of the event type's streak after this event (the reward entry repeats it).</summary>
    [Id(39)] public int Streak { get; init; }
    /// <summary>earn that extended a streak: the day (yyyy-MM-dd) or month (yyyy-MM) it counts for.</summary>
    [Id(40)] public string? StreakPeriod { get; init; }
    /// <summary>accrual: the growth of each run of days (or of a term's bonus), dated at the start of each day.</summary>
    [Id(41)] public IReadOnlyList<GrowthRun>? Runs { get; init; }
    /// <summary>clawback: the seq of the refunded order's earn entry (its bucket's and its growth record's identity).</summary>
    [Id(42)] public long? OrderSeq { get; init; }
    /// <summary>
    /// tier: the start of the period it reports, when that is not its date: a refund or a late event that
    /// rewrote the tier from before the period last reported is dated when it was written, not before it.
    /// </summary>
    [Id(43)] public DateTimeOffset? TierSince { get; init; }
}

/// <summary>
/// Growth time brought: <see cref="PerDay"/> at the start (00:00 in the program's zone) of each of <see cref="Days"/>
/// consecutive local days from <see cref="From"/>. A term's bonus is a run of one day dated at the term's start.
/// </summary>
[GenerateSerializer, Immutable, Alias("growth-run")]
public sealed record GrowthRun([property: Id(0)] DateTimeOffset From, [property: Id(1)] int Days, [property: Id(2)] long PerDay, [property: Id(3)] string Rule);

/// <summary>Points taken from one bucket, identified by the seq of the entry that created it.</summary>
[GenerateSerializer, Immutable, Alias("bucket-draw")]
public sealed record BucketDraw([property: Id(0)] long BucketSeq, [property: Id(1)] long Points, [property: Id(2)] DateTimeOffset? ExpiresAt);
