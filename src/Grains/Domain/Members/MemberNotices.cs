using System.Globalization;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// A warning that falls due at a time, with no read or write of the member to trigger it: points about to
/// expire, a plan about to end. <see cref="Key"/> identifies it within the member, so it fires once.
/// </summary>
public sealed record MemberNotice(string Key, DateTimeOffset DueAt, MemberChange Change);

/// <summary>The notices of a member: their lead times are the program's (<c>points.expiringSoonDays</c>, each plan's <c>expiringNoticeDays</c>).</summary>
public static class MemberNotices
{
    /// <summary>A bucket with points left that has not expired is warned of <c>points.expiringSoonDays</c> before it does.</summary>
    private static DateTimeOffset? DueAt(MembershipProgram program, PointBucket b, DateTimeOffset now)
        => b.Remaining > 0 && b.ExpiresAt is { } end && end > now ? end.AddDays(-program.ExpiringSoonDays) : null;

    /// <summary>A plan that has not ended (trial or paid, renewing or not) is warned of its <c>expiringNoticeDays</c> before its end.</summary>
    private static DateTimeOffset? DueAt(MembershipProgram program, PlanState plan, DateTimeOffset now)
        => plan.ExpiresAt is { } end && end > now ? end.AddDays(-NoticeDays(program, plan.Code)) : null;

    private static int NoticeDays(MembershipProgram program, string plan)
        => program.Plans.TryGetValue(plan, out var p) ? p.ExpiringNoticeDays : Plan.DefaultExpiringNoticeDays;

    /// <summary>
    /// Every notice of the member's current state. Pure: the caller decides which are due and which have fired.
    /// </summary>
    public static List<MemberNotice> All(MembershipProgram program, string memberId, MemberState state, DateTimeOffset now)
    {
        var notices = new List<MemberNotice>();
        foreach (var b in state.Buckets)
        {
            if (DueAt(program, b, now) is not { } due) continue;
            var key = "bucket:" + b.Seq.ToString(CultureInfo.InvariantCulture);
            notices.Add(new MemberNotice(key, due,
                new MemberChange($"{memberId}:{key}", MemberChangeTypes.PointsExpiring, program.Id, memberId, due)
                {
                    Points = b.Remaining, ExpiresAt = b.ExpiresAt,
                }));
        }
        foreach (var plan in state.Plans)
        {
            var code = plan.Code;
            if (DueAt(program, plan, now) is not { } due) continue;
            // Keyed by the end: a renewal moves the end, and the new end gets its own notice.
            var key = $"plan:{code}:{plan.ExpiresAt!.Value.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
            notices.Add(new MemberNotice(key, due,
                new MemberChange($"{memberId}:{key}", MemberChangeTypes.PlanExpiring, program.Id, memberId, due)
                {
                    Plan = code, ExpiresAt = plan.ExpiresAt,
                }));
        }
        return notices;
    }

    /// <summary>
    /// The earliest notice due after <paramref name="now"/>, or due already for a bucket or plan this write
    /// created (<paramref name="freshBuckets"/>, <paramref name="freshPlans"/>): what the index must wake the
    /// member for. Allocation-free: it runs after every write.
    /// </summary>
    public static DateTimeOffset? Next(MembershipProgram program, MemberState state, DateTimeOffset now, IReadOnlyCollection<long> freshBuckets, IReadOnlyCollection<string> freshPlans)
    {
        DateTimeOffset? next = null;
        foreach (var b in state.Buckets)
        {
            if (DueAt(program, b, now) is { } due && (due > now || freshBuckets.Contains(b.Seq)) && (next is null || due < next)) next = due;
        }
        foreach (var plan in state.Plans)
        {
            if (DueAt(program, plan, now) is { } due && (due > now || freshPlans.Contains(plan.Code)) && (next is null || due < next)) next = due;
        }
        return next;
    }
}
