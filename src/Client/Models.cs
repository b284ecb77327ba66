using System.Text.Json.Nodes;

namespace Orleans.Membership.Client;

// The API's JSON shapes (camelCase on the wire), one record per schema of /openapi/v1.json.
// ClientDriftTests compares their properties with the document's.

public sealed record ProgramVersion(string ProgramId, int Version);
/// <summary>Every program, by id.</summary>
public sealed record ProgramList(IReadOnlyList<ProgramListing> Programs);
/// <summary>One program: its id, current version and name.</summary>
public sealed record ProgramListing(string Id, int Version, string Name);

public sealed record TierView(string Code, string Name, DateTimeOffset? Since, DateTimeOffset? ValidUntil);
public sealed record GrowthView(long Lifetime, long Qualifying);
public sealed record ExpiringPoints(long Amount, DateTimeOffset ExpiresAt);
public sealed record PointsView(long Balance, IReadOnlyList<ExpiringPoints> ExpiringSoon);
/// <summary>A paid plan: <see cref="Status"/> is active, trial or expired.</summary>
public sealed record SubscriptionView(string Plan, string Status, DateTimeOffset? StartedAt, DateTimeOffset? ExpiresAt, bool TrialUsed, bool AutoRenew);
public sealed record MemberSummary(
    string MemberId, string ProgramId, DateTimeOffset JoinedAt, string? Birthday, TierView Tier, GrowthView Growth, PointsView Points,
    SubscriptionView? Subscription, DateTimeOffset? LastActivityAt, IReadOnlyDictionary<string, long> Counters);

/// <summary>Enrollment's answer: <see cref="Created"/> is true for 201 (new member), false for 200 (profile updated).</summary>
public sealed record Enrollment(bool Created, MemberSummary Summary);

public sealed record LedgerEntryView(long Seq, DateTimeOffset OccurredAt, DateTimeOffset RecordedAt, string Kind, string? EventId, long Points, long Growth, JsonObject Detail);
/// <summary>A page of the statement, newest first; <see cref="Next"/> is the next page's <c>before</c>, null at the end.</summary>
public sealed record LedgerResponse(IReadOnlyList<LedgerEntryView> Entries, long? Next);

/// <summary>One benefit check: <see cref="Reason"/> says why not entitled (tier, quota, window).</summary>
public sealed record BenefitCheck(string Code, bool Entitled, decimal? Value, int? Remaining, DateTimeOffset? ResetsAt, IReadOnlyList<string> Sources, string? Reason);
public sealed record BenefitsResponse(IReadOnlyList<BenefitCheck> Benefits);

/// <summary>A term of a plan at the price this member pays now (<see cref="ListPrice"/> before a tier's price).</summary>
public sealed record PlanTermPrice(string Term, decimal? Price, decimal? ListPrice, long GrowthPerDay, long BonusGrowth);
/// <summary>A plan as checkout offers it to a member: its terms and prices now, the trial, the member's subscription.</summary>
public sealed record PlanOffer(string Code, string Name, IReadOnlyList<PlanTermPrice> Terms, int? TrialDays, bool TrialAvailable, SubscriptionView? Subscription);
public sealed record PlansResponse(string ProgramId, string MemberId, string Currency, IReadOnlyList<PlanOffer> Plans);

public sealed record ConsumedPoints(DateTimeOffset? ExpiresAt, long Points);
public sealed record RedemptionResult(long Balance, IReadOnlyList<ConsumedPoints> Consumed);

/// <summary>A rejected event: <see cref="Error"/> and <see cref="Field"/> name its first problem, <see cref="Errors"/> every problem of its fields by path (null when it was refused for no field).</summary>
public sealed record RejectedEvent(int Index, string? EventId, string Error, string? Field, string? Reason, IReadOnlyDictionary<string, string[]>? Errors = null);
public sealed record EventsResponse(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);

public sealed record WebhookView(string Url);
public sealed record WebhooksResponse(IReadOnlyList<WebhookView> Webhooks);
/// <summary>A change a webhook never took; <see cref="Change"/> is the change as it would have been delivered.</summary>
public sealed record DeadLetter(string Url, JsonObject Change, int Attempts, string LastError, DateTimeOffset FailedAt);
public sealed record DeadLettersResponse(IReadOnlyList<DeadLetter> DeadLetters);
/// <summary>What a replay did; letters of URLs no longer registered are kept (<see cref="KeptReason"/> <c>url-not-registered</c>).</summary>
public sealed record ReplayResponse(int Replayed)
{
    public int Kept { get; init; }
    public string? KeptReason { get; init; }
    public IReadOnlyList<string> KeptUrls { get; init; } = [];
}
public sealed record DiscardResponse(int Removed);

public sealed record HealthResponse(string Status);
/// <summary>The node's runtime: GC, heap, thread pool (docs/api.md).</summary>
public sealed record RuntimeDiagnostics(
    int ProcessorCount, bool ServerGc, string GcLatencyMode, long WorkingSetBytes, long HeapBytes, long AllocatedBytes,
    int Gen0Collections, int Gen1Collections, int Gen2Collections, double TotalGcPauseMs, double GcPauseTimePercent,
    int ThreadPoolThreads, long ThreadPoolQueueLength, long ThreadPoolCompletedWorkItems, IReadOnlyList<GcView> LastGcs);
/// <summary>The last collection of one kind.</summary>
public sealed record GcView(string Kind, long Index, int Generation, double PauseMs, long PromotedBytes, long HeapSizeBytes, bool Compacted, bool Concurrent);
public sealed record StreamDiagnostics(long Accepted, long Duplicates, long Rejected, long? HeldBatches, long? PeakHeldPerQueue, long? TimesPressured, long? DroppedUnconsumed);

/// <summary>One notice of the live changes feed (server-sent events): its id (resume after it), type and the change.</summary>
public sealed record ChangeNotice(long Id, string Type, JsonObject Change);

// Request bodies. Absent optional fields are left out of the JSON (an event's body is part of its idempotency).

public sealed record EnrollBody(string? Birthday);
public sealed record BenefitUseBody(string UseId, string? OrderId);
public sealed record RedemptionBody(string RedemptionId, long Points, string? Reason);
/// <summary><see cref="Action"/>: purchase, trial or cancel; <see cref="Term"/> (P1Y, P1M) for a purchase.</summary>
public sealed record SubscriptionBody(string SubscriptionEventId, string Plan, string Action, string? Term = null, DateTimeOffset? At = null);
public sealed record EventBody(string EventId, string MemberId, string Type, DateTimeOffset? OccurredAt = null, string? OrderId = null, decimal? Amount = null, JsonObject? Attributes = null);
public sealed record EventBatchBody(IReadOnlyList<EventBody> Events);
public sealed record WebhookBody(string Url, string Secret);
public sealed record WebhooksBody(IReadOnlyList<WebhookBody> Webhooks);
