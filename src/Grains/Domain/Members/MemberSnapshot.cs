namespace Orleans.Membership.Domain.Members;

/// <summary>
/// A member's state as of ledger seq <see cref="Seq"/>, stored now and then through Orleans persistence
/// so an activation replays only the ledger rows after it. Losing a snapshot loses nothing.
/// </summary>
[GenerateSerializer, Alias("member-snapshot")]
public sealed class MemberSnapshot
{
    [Id(0)] public long Seq { get; set; }
    [Id(1)] public bool Enrolled { get; set; }
    [Id(2)] public DateTimeOffset JoinedAt { get; set; }
    [Id(3)] public string? Birthday { get; set; }
    [Id(4)] public DateTimeOffset? LastActivityAt { get; set; }
    [Id(5)] public long LifetimeGrowth { get; set; }
    [Id(6)] public long LedgerPoints { get; set; }
    [Id(7)] public long Debt { get; set; }
    [Id(8)] public string? ReportedTier { get; set; }
    [Id(9)] public DateTimeOffset? ReportedTierSince { get; set; }
    [Id(10)] public string? LastPlan { get; set; }
    [Id(11)] public List<GrowthRow> Growth { get; set; } = [];
    [Id(12)] public List<BucketRow> Buckets { get; set; } = [];
    [Id(13)] public List<OrderRow> Orders { get; set; } = [];
    [Id(14)] public Dictionary<string, int> DayCounts { get; set; } = [];
    [Id(15)] public Dictionary<string, int> MemberCounts { get; set; } = [];
    [Id(16)] public Dictionary<string, long> Counters { get; set; } = [];
    [Id(17)] public Dictionary<string, int> BenefitUses { get; set; } = [];
    [Id(18)] public List<PlanRow> Plans { get; set; } = [];
    [Id(19)] public List<CallerIdRow> CallerIds { get; set; } = [];
}

[GenerateSerializer, Alias("snapshot-growth")]
public sealed record GrowthRow([property: Id(0)] long Seq, [property: Id(1)] DateTimeOffset OccurredAt, [property: Id(2)] long Amount);

/// <summary>A bucket in a snapshot. <see cref="OrderId"/> is no longer written (null); snapshots that have it still read.</summary>
[GenerateSerializer, Alias("snapshot-bucket")]
public sealed record BucketRow([property: Id(0)] long Seq, [property: Id(1)] DateTimeOffset EarnedAt, [property: Id(2)] DateTimeOffset? ExpiresAt, [property: Id(3)] long Remaining, [property: Id(4)] string? OrderId);

[GenerateSerializer, Alias("snapshot-order")]
public sealed record OrderRow(
    [property: Id(0)] string OrderId, [property: Id(1)] string EventType, [property: Id(2)] long EarnSeq, [property: Id(3)] DateTimeOffset OccurredAt,
    [property: Id(4)] decimal Paid, [property: Id(5)] decimal Refunded, [property: Id(6)] long Growth, [property: Id(7)] long Points,
    [property: Id(8)] decimal? GrowthFactor, [property: Id(9)] decimal? PointsFactor, [property: Id(10)] Dictionary<string, int>? Counters, [property: Id(11)] bool CountersTakenBack);

[GenerateSerializer, Alias("snapshot-plan")]
public sealed record PlanRow([property: Id(0)] string Plan, [property: Id(1)] List<PlanTerm> Terms, [property: Id(2)] bool TrialUsed, [property: Id(3)] bool Cancelled, [property: Id(4)] DateTimeOffset? LastChangeAt);

[GenerateSerializer, Alias("snapshot-caller-id")]
public sealed record CallerIdRow([property: Id(0)] string Id, [property: Id(1)] string Kind, [property: Id(2)] string? BodyHash, [property: Id(3)] long Seq, [property: Id(4)] string? Response);
