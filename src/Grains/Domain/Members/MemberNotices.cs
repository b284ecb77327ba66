using System.Globalization;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// A notice that falls due at a time, with no read or write of the member to trigger it: points about to
/// expire, a plan about to end, a plan that ended. <see cref="Key"/> identifies it within the member, so it fires once.
/// </summary>
public sealed record MemberNotice(string Key, DateTimeOffset DueAt, MemberChange Change);

/// <summary>The notices of a member: their lead times are the program's (<c>points.expiringSoonDays</c>, each plan's <c>expiringNoticeDays</c>); a plan's end is announced at the end.</summary>
public static class MemberNotices
{
    /// <summary>A bucket with points left that has not expired is warned of <c>points.expiringSoonDays</c> before it does.</summary>
    private static DateTimeOffset? DueAt(MembershipProgram program, PointBucket b, DateTimeOffset now)
        => b.Remaining > 0 && b.ExpiresAt is { } end && end > now ? end.AddDays(-program.ExpiringSoonDays) : null;

    /// <summary>A plan that has not ended (trial or paid, renewing or not) is warned of its <c>expiringNoticeDays</c> before its <paramref name="end"/>.</summary>
    private static DateTimeOffset? ExpiringDueAt(MembershipProgram program, string plan, DateTimeOffset end, DateTimeOffset now)
        => end > now ? end.AddDays(-NoticeDays(program, plan)) : null;

    private static int NoticeDays(MembershipProgram program, string plan)
        => program.Plans.TryGetValue(plan, out var p) ? p.ExpiringNoticeDays : Plan.DefaultExpiringNoticeDays;

    /// <summary>
    /// Every notice of the member's current state. Pure: the caller decides which are due and which have fired.
    /// </summary>
    public static List<MemberNotice> All(MembershipProgram program, string memberId, MemberState state, DateTimeOffset now)
    {
        var notices = new List<MemberNotice>();
        if (state.LastSeq == 0) return notices;
        // Keys are the member's own (its fired marks go with it on erasure); ids must differ from an erased member's too.
        var prefix = MemberChanges.IdPrefix(memberId, state);
        foreach (var b in state.Buckets)
        {
            if (DueAt(program, b, now) is not { } due) continue;
            var key = "bucket:" + b.Seq.ToString(CultureInfo.InvariantCulture);
            notices.Add(new MemberNotice(key, due,
                new MemberChange($"{prefix}:{key}", MemberChangeTypes.PointsExpiring, program.Id, memberId, due)
                {
                    Points = b.Remaining, ExpiresAt = b.ExpiresAt,
                }));
        }
        foreach (var plan in state.Plans)
        {
            if (plan.ExpiresAt is not { } end) continue;
            var code = plan.Code;
            // Keyed by the end: a renewal moves the end, and the new end gets its own notices.
            var endKey = $"{code}:{end.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
            if (ExpiringDueAt(program, code, end, now) is { } due)
            {
                var key = "plan:" + endKey;
                notices.Add(new MemberNotice(key, due,
                    new MemberChange($"{prefix}:{key}", MemberChangeTypes.PlanExpiring, program.Id, memberId, due)
                    {
                        Plan = code, ExpiresAt = end,
                    }));
            }
            // Due at the current end, even long past: only the end no renewal moved is announced, one per plan.
            var endedKey = "plan-ended:" + endKey;
            notices.Add(new MemberNotice(endedKey, end,
                new MemberChange($"{prefix}:{endedKey}", MemberChangeTypes.PlanEnded, program.Id, memberId, end)
                {
                    Plan = code, ExpiresAt = end,
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
            if (plan.ExpiresAt is not { } end) continue;
            var fresh = freshPlans.Contains(plan.Code);
            if (ExpiringDueAt(program, plan.Code, end, now) is { } due && (due > now || fresh) && (next is null || due < next)) next = due;
            // An end already past is armed only by a write of that plan: the index does not wake a member for an old end again and again.
            if ((end > now || fresh) && (next is null || end < next)) next = end;
        }
        return next;
    }
}
