using System.Globalization;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// A warning that falls due at a time, with no read or write of the member to trigger it: points about to
/// expire, a plan about to end. <see cref="Key"/> identifies it within the member, so it fires once.
/// </summary>
public sealed record MemberNotice(string Key, DateTimeOffset DueAt, MemberChange Change);

public static class MemberChangeNotices
{
    public const string PointsExpiring = "points-expiring";
    public const string PlanExpiring = "plan-expiring";
    public static readonly TimeSpan PointsAhead = TimeSpan.FromDays(60);
    public static readonly TimeSpan PlanAhead = TimeSpan.FromDays(7);
}

public static class MemberNotices
{
    /// <summary>
    /// Every notice of the member's current state: one per live bucket with points left (due 60 days before
    /// it expires) and one per plan that has not ended (due 7 days before its end). Pure: the caller decides
    /// which are due and which have fired.
    /// </summary>
    public static List<MemberNotice> All(string programId, string memberId, MemberState state, DateTimeOffset now)
    {
        var notices = new List<MemberNotice>();
        foreach (var b in state.Buckets)
        {
            if (b.Remaining <= 0 || b.ExpiresAt is not { } end || end <= now) continue;
            var key = "bucket:" + b.Seq.ToString(CultureInfo.InvariantCulture);
            notices.Add(new MemberNotice(key, end - MemberChangeNotices.PointsAhead,
                new MemberChange($"{memberId}:{key}", MemberChangeNotices.PointsExpiring, programId, memberId, end - MemberChangeNotices.PointsAhead)
                {
                    Points = b.Remaining, ExpiresAt = end,
                }));
        }
        foreach (var (code, plan) in state.Plans)
        {
            if (plan.ExpiresAt is not { } end || end <= now) continue;
            // Keyed by the end: a renewal moves the end, and the new end gets its own notice.
            var key = $"plan:{code}:{end.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
            notices.Add(new MemberNotice(key, end - MemberChangeNotices.PlanAhead,
                new MemberChange($"{memberId}:{key}", MemberChangeNotices.PlanExpiring, programId, memberId, end - MemberChangeNotices.PlanAhead)
                {
                    Plan = code, ExpiresAt = end,
                }));
        }
        return notices;
    }
}

public static class MemberNoticeTimes
{
    /// <summary>
    /// The earliest notice due after <paramref name="now"/>, or due already for a bucket or plan this write
    /// created (<paramref name="freshBuckets"/>, <paramref name="freshPlans"/>): what the index must wake the
    /// member for. Allocation-free: it runs after every write.
    /// </summary>
    public static DateTimeOffset? Next(MemberState state, DateTimeOffset now, IReadOnlyCollection<long> freshBuckets, IReadOnlyCollection<string> freshPlans)
    {
        DateTimeOffset? next = null;
        foreach (var b in state.Buckets)
        {
            if (b.Remaining <= 0 || b.ExpiresAt is not { } end || end <= now) continue;
            var due = end - MemberChangeNotices.PointsAhead;
            if ((due > now || freshBuckets.Contains(b.Seq)) && (next is null || due < next)) next = due;
        }
        foreach (var (code, plan) in state.Plans)
        {
            if (plan.ExpiresAt is not { } end || end <= now) continue;
            var due = end - MemberChangeNotices.PlanAhead;
            if ((due > now || freshPlans.Contains(code)) && (next is null || due < next)) next = due;
        }
        return next;
    }
}
