using System.Globalization;
using System.Text.Json;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// Something about a member that other systems want to hear of, as it goes out on the member-changes
/// stream, to webhooks and to the live feed. <see cref="Id"/> is unique within the program, across erasure and
/// re-creation of the member too (<c>"{memberId}:{since}:{seq}"</c>, <see cref="MemberChanges.IdPrefix"/> and the
/// ledger row it comes from): receivers deduplicate by it.
/// </summary>
[GenerateSerializer, Immutable, Alias("member-change")]
public sealed record MemberChange(
    [property: Id(0)] string Id,
    [property: Id(1)] string Type,
    [property: Id(2)] string ProgramId,
    [property: Id(3)] string MemberId,
    [property: Id(4)] DateTimeOffset OccurredAt)
{
    [Id(5)] public string? TierFrom { get; init; }
    [Id(6)] public string? TierTo { get; init; }
    [Id(7)] public DateTimeOffset? TierValidUntil { get; init; }
    /// <summary>points-redeemed: the points taken (positive).</summary>
    [Id(8)] public long? Points { get; init; }
    [Id(9)] public string? BenefitCode { get; init; }
    [Id(10)] public string? Period { get; init; }
    /// <summary>The caller's id that caused it (redemptionId, useId), when there is one.</summary>
    [Id(11)] public string? CallerId { get; init; }
    /// <summary>points-expiring: when the bucket's points expire; plan-expiring, subscription-changed: when the plan ends; plan-ended: when it ended.</summary>
    [Id(12)] public DateTimeOffset? ExpiresAt { get; init; }
    [Id(13)] public string? Plan { get; init; }
    /// <summary>subscription-changed: what the member did, <c>purchase</c> (a renewal too), <c>trial</c> or <c>cancel</c>.</summary>
    [Id(14)] public string? Action { get; init; }
    /// <summary>subscription-changed: the plan's status as the action left it, <c>active</c>, <c>trial</c> or <c>expired</c>.</summary>
    [Id(15)] public string? Status { get; init; }
    /// <summary>subscription-changed: whether the plan renews at its end (false once cancelled).</summary>
    [Id(16)] public bool? AutoRenew { get; init; }
}

public static class MemberChangeTypes
{
    public const string TierChanged = "tier-changed";
    public const string PointsRedeemed = "points-redeemed";
    public const string BenefitUsed = "benefit-used";
    public const string PointsExpiring = "points-expiring";
    public const string PlanExpiring = "plan-expiring";
    /// <summary>A plan's end passed with no renewal before it: announced at the end, from the due-time index.</summary>
    public const string PlanEnded = "plan-ended";
    public const string SubscriptionChanged = "subscription-changed";
}

public static class MemberChanges
{
    /// <summary>
    /// What every change id of the member starts with: <c>"{memberId}:{since}"</c>, <c>since</c> the Unix
    /// microsecond its first ledger entry was recorded. Seqs and notice keys start again for a member
    /// re-created after erasure; its first entry was recorded after the erasure, so its ids are new.
    /// </summary>
    public static string IdPrefix(string memberId, MemberState member)
    {
        var first = member.FirstRecordedAt ?? throw new InvalidOperationException($"member '{memberId}' has no ledger entry to name its changes by");
        var since = (first.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
        return string.Concat(memberId, ":", since.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The changes a write's ledger entries announce (a pure function of the member's first entry and these); null when none.</summary>
    public static List<MemberChange>? From(string programId, string memberId, MemberState member, IReadOnlyList<LedgerEntry> entries)
    {
        List<MemberChange>? changes = null;
        string? prefix = null;
        foreach (var e in entries)
        {
            // Most writes announce nothing (an earn): nothing is built for them.
            if (e.Kind is not (LedgerKinds.Tier or LedgerKinds.Redeem or LedgerKinds.BenefitUse or LedgerKinds.Subscription)) continue;
            prefix ??= IdPrefix(memberId, member);
            var id = string.Concat(prefix, ":", e.Seq.ToString(CultureInfo.InvariantCulture));
            (changes ??= []).Add(e.Kind switch
            {
                LedgerKinds.Tier => new MemberChange(id, MemberChangeTypes.TierChanged, programId, memberId, e.OccurredAt)
                {
                    TierFrom = e.TierFrom, TierTo = e.TierTo, TierValidUntil = e.TierValidUntil,
                },
                LedgerKinds.Redeem => new MemberChange(id, MemberChangeTypes.PointsRedeemed, programId, memberId, e.OccurredAt)
                {
                    Points = -e.Points, CallerId = e.EventId,
                },
                LedgerKinds.Subscription => Subscription(new MemberChange(id, MemberChangeTypes.SubscriptionChanged, programId, memberId, e.OccurredAt)
                {
                    Plan = e.Plan, Action = e.PlanAction, ExpiresAt = e.PlanExpiresAt, CallerId = e.EventId,
                }, e),
                _ => new MemberChange(id, MemberChangeTypes.BenefitUsed, programId, memberId, e.OccurredAt)
                {
                    BenefitCode = e.BenefitCode, Period = e.Period, CallerId = e.EventId,
                },
            });
        }
        return changes;
    }

    /// <summary>The plan as the entry left it, from the answer the entry keeps (the subscription's view).</summary>
    private static MemberChange Subscription(MemberChange change, LedgerEntry e)
    {
        if (e.Response is null || JsonSerializer.Deserialize(e.Response, DomainJson.Default.SubscriptionView) is not { } view) return change;
        return change with { Status = view.Status, ExpiresAt = view.ExpiresAt, AutoRenew = view.AutoRenew };
    }
}
