namespace Orleans.Membership.Domain.Members;

/// <summary>
/// A scoring event as a producer sends it. <see cref="OccurredAt"/> null means when it was received:
/// <see cref="ReceivedAt"/> (a broker's store time, not part of the event's body), else the moment it is applied.
/// </summary>
[GenerateSerializer, Immutable, Alias("scoring-event")]
public sealed record ScoringEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string Type,
    [property: Id(2)] DateTimeOffset? OccurredAt,
    [property: Id(3)] string? OrderId,
    [property: Id(4)] decimal? Amount,
    [property: Id(5)] string? AttributesJson,
    [property: Id(6)] DateTimeOffset? ReceivedAt = null)
{
    /// <summary>When it happened: as the producer said, else when it was received, else <paramref name="now"/>.</summary>
    public DateTimeOffset HappenedAt(DateTimeOffset now) => OccurredAt ?? ReceivedAt ?? now;
}

public enum EventStatus { Accepted, Duplicate, Rejected }

/// <summary>What became of one event; <see cref="Field"/> names the offending field of a rejection.</summary>
[GenerateSerializer, Immutable, Alias("event-outcome")]
public sealed record EventOutcome(
    [property: Id(0)] EventStatus Status,
    [property: Id(1)] string? Error = null,
    [property: Id(2)] string? Field = null,
    [property: Id(3)] string? Reason = null)
{
    public static readonly EventOutcome Accepted = new(EventStatus.Accepted);
    public static readonly EventOutcome Duplicate = new(EventStatus.Duplicate);
    public static EventOutcome Rejected(string? field, string error, string? reason = null) => new(EventStatus.Rejected, error, field, reason);
}

public enum WriteStatus
{
    /// <summary>Applied now.</summary>
    Applied,
    /// <summary>The same id and body was applied before: this is the first answer again.</summary>
    Replayed,
    /// <summary>Refused by a rule (409 with <see cref="WriteResult{T}.Reason"/>).</summary>
    Conflict,
    /// <summary>The request itself is wrong (400 naming <see cref="WriteResult{T}.Field"/>).</summary>
    Invalid,
    /// <summary>What the request names does not exist (404).</summary>
    NotFound,
}

/// <summary>The answer to a caller-id write (redemption, benefit use, subscription action, enrollment).</summary>
[GenerateSerializer, Immutable, Alias("write-result`1")]
public sealed record WriteResult<T>(
    [property: Id(0)] WriteStatus Status,
    [property: Id(1)] T? Value,
    [property: Id(2)] string? Reason = null,
    [property: Id(3)] string? Detail = null,
    [property: Id(4)] string? Field = null)
{
    public static WriteResult<T> Ok(T value, bool replayed = false) => new(replayed ? WriteStatus.Replayed : WriteStatus.Applied, value);
    public static WriteResult<T> Conflict(string reason, string detail) => new(WriteStatus.Conflict, default, reason, detail);
    public static WriteResult<T> Invalid(string field, string detail) => new(WriteStatus.Invalid, default, null, detail, field);
    public static WriteResult<T> NotFound(string detail) => new(WriteStatus.NotFound, default, null, detail);
}

/// <summary>The check a checkout asks for: may this member use this benefit now, with which value.</summary>
[GenerateSerializer, Immutable, Alias("benefit-check")]
public sealed record BenefitCheck(
    [property: Id(0)] string Code,
    [property: Id(1)] bool Entitled,
    [property: Id(2)] decimal? Value,
    [property: Id(3)] int? Remaining,
    [property: Id(4)] DateTimeOffset? ResetsAt,
    [property: Id(5)] IReadOnlyList<string> Sources,
    [property: Id(6)] string? Reason);

[GenerateSerializer, Immutable, Alias("redemption-request")]
public sealed record RedemptionRequest([property: Id(0)] string RedemptionId, [property: Id(1)] long Points, [property: Id(2)] string? Reason);

[GenerateSerializer, Immutable, Alias("consumed-points")]
public sealed record ConsumedPoints([property: Id(0)] DateTimeOffset? ExpiresAt, [property: Id(1)] long Points);

[GenerateSerializer, Immutable, Alias("redemption-result")]
public sealed record RedemptionResult([property: Id(0)] long Balance, [property: Id(1)] IReadOnlyList<ConsumedPoints> Consumed);

[GenerateSerializer, Immutable, Alias("benefit-use-request")]
public sealed record BenefitUseRequest([property: Id(0)] string Code, [property: Id(1)] string UseId, [property: Id(2)] string? OrderId);

[GenerateSerializer, Immutable, Alias("subscription-request")]
public sealed record SubscriptionRequest(
    [property: Id(0)] string SubscriptionEventId,
    [property: Id(1)] string Plan,
    [property: Id(2)] string Action,
    [property: Id(3)] string? Term,
    [property: Id(4)] DateTimeOffset? At);

[GenerateSerializer, Immutable, Alias("subscription-view")]
public sealed record SubscriptionView(
    [property: Id(0)] string Plan,
    [property: Id(1)] string Status,
    [property: Id(2)] DateTimeOffset? StartedAt,
    [property: Id(3)] DateTimeOffset? ExpiresAt,
    [property: Id(4)] bool TrialUsed,
    [property: Id(5)] bool AutoRenew);

/// <summary>One term a plan sells, at the price this member would pay now (null when the program gives none).</summary>
[GenerateSerializer, Immutable, Alias("plan-term-price")]
public sealed record PlanTermPrice(
    [property: Id(0)] string Term,
    [property: Id(1)] decimal? Price,
    [property: Id(2)] decimal? ListPrice,
    [property: Id(3)] long GrowthPerDay,
    [property: Id(4)] long BonusGrowth);

/// <summary>A plan as checkout offers it to a member: its terms and prices now, the trial, the member's subscription.</summary>
[GenerateSerializer, Immutable, Alias("plan-offer")]
public sealed record PlanOffer(
    [property: Id(0)] string Code,
    [property: Id(1)] string Name,
    [property: Id(2)] IReadOnlyList<PlanTermPrice> Terms,
    [property: Id(3)] int? TrialDays,
    [property: Id(4)] bool TrialAvailable,
    [property: Id(5)] SubscriptionView? Subscription);

[GenerateSerializer, Immutable, Alias("enroll-request")]
/// <param name="ForgetBirthday">the member asked for its birthday to be removed (a body of <c>{"birthday":null}</c>)</param>
public sealed record EnrollRequest([property: Id(0)] string? Birthday, [property: Id(1)] bool ForgetBirthday = false);

[GenerateSerializer, Immutable, Alias("enroll-result")]
public sealed record EnrollResult([property: Id(0)] bool Created, [property: Id(1)] MemberSummary Summary);

[GenerateSerializer, Immutable, Alias("tier-view")]
public sealed record TierView([property: Id(0)] string Code, [property: Id(1)] string Name, [property: Id(2)] DateTimeOffset? Since, [property: Id(3)] DateTimeOffset? ValidUntil);

[GenerateSerializer, Immutable, Alias("growth-view")]
public sealed record GrowthView([property: Id(0)] long Lifetime, [property: Id(1)] long Qualifying);

[GenerateSerializer, Immutable, Alias("expiring-points")]
public sealed record ExpiringPoints([property: Id(0)] long Amount, [property: Id(1)] DateTimeOffset ExpiresAt);

[GenerateSerializer, Immutable, Alias("points-view")]
public sealed record PointsView([property: Id(0)] long Balance, [property: Id(1)] IReadOnlyList<ExpiringPoints> ExpiringSoon);

/// <summary>The member summary of the contract.</summary>
[GenerateSerializer, Immutable, Alias("member-summary")]
public sealed record MemberSummary(
    [property: Id(0)] string MemberId,
    [property: Id(1)] string ProgramId,
    [property: Id(2)] DateTimeOffset JoinedAt,
    [property: Id(3)] string? Birthday,
    [property: Id(4)] TierView Tier,
    [property: Id(5)] GrowthView Growth,
    [property: Id(6)] PointsView Points,
    [property: Id(7)] SubscriptionView? Subscription,
    [property: Id(8)] DateTimeOffset? LastActivityAt,
    [property: Id(9)] IReadOnlyDictionary<string, long> Counters);

/// <summary>One page of the statement, newest first; <see cref="Next"/> is the next <c>before</c>.</summary>
[GenerateSerializer, Immutable, Alias("ledger-page")]
public sealed record LedgerPage([property: Id(0)] IReadOnlyList<Ledger.LedgerEntry> Entries, [property: Id(1)] long? Next);

/// <summary>
/// The one id rule of the API: 1-128 characters of [A-Za-z0-9._:-], and not <c>.</c> or <c>..</c> (as a
/// path segment those name another resource). Checked character by character: a pattern anchored with
/// <c>$</c> would also take a final newline.
/// </summary>
public static class CallerIds
{
    public const int MaxLength = 128;

    public const string Rule = "must be 1-128 characters of A-Z a-z 0-9 . _ : - (and not . or ..)";

    public static bool IsValid(string? id)
    {
        if (id is null || id.Length is 0 or > MaxLength || id is "." or "..") return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-')) return false;
        }
        return true;
    }
}
