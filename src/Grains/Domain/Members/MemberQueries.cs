using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>Reads of a member's state at an instant: pure, no entries written.</summary>
public static class MemberQueries
{
    public static TierStatus TierAt(MemberState state, MembershipProgram program, DateTimeOffset at) => state.TierAt(program, at);

    public static bool PlanActiveAt(IBenefitFacts? member, string plan, DateTimeOffset at)
        => member is not null && member.PlanActiveAt(plan, at);

    public static SubscriptionView? Subscription(MemberState state, DateTimeOffset now)
        => state.LastPlan is { } plan && state.Plan(plan) is { } p ? Subscription(p, now) : null;

    public static SubscriptionView? Subscription(PlanState p, DateTimeOffset now)
    {
        if (p.ExpiresAt is not { } expiresAt) return null;
        string status;
        if (now >= expiresAt) status = "expired";
        else if (p.Terms.Any(t => !t.IsTrial && t.End > now)) status = "active";
        else status = "trial";
        return new SubscriptionView(p.Code, status, p.RunStart, expiresAt, p.TrialUsed, AutoRenew: !p.Cancelled && status != "expired");
    }

    public static MemberSummary Summary(string memberId, MemberState state, MembershipProgram program, DateTimeOffset now, TierStatus? tier = null)
    {
        tier ??= TierAt(state, program, now);
        var soonLimit = now.AddDays(program.ExpiringSoonDays);
        var expiring = state.Buckets
            .Where(b => b.Remaining > 0 && b.ExpiresAt is { } end && end > now && end <= soonLimit)
            .GroupBy(b => b.ExpiresAt!.Value)
            .OrderBy(g => g.Key)
            .Select(g => new ExpiringPoints(g.Sum(b => b.Remaining), g.Key))
            .ToList();
        return new MemberSummary(
            memberId,
            program.Id,
            state.JoinedAt,
            state.Birthday,
            new TierView(tier.Tier.Code, tier.Tier.Name, tier.Since, tier.ValidUntil),
            new GrowthView(state.LifetimeGrowth, TierPolicy.QualifyingGrowth(program, state.Growth, state.Checkpoint, now)),
            new PointsView(state.BalanceAt(now), expiring),
            Subscription(state, now),
            state.LastActivityAt,
            state.Counters.ToDictionary(c => c.Key, c => c.Count, StringComparer.Ordinal));
    }

    /// <summary>
    /// The benefit check at <paramref name="now"/>. <paramref name="state"/> null is a guest: the base tier
    /// with no plan, no birthday and nothing used. The state is the member's live one (on its activation)
    /// or the <see cref="BenefitFacts"/> it published (anywhere).
    /// </summary>
    public static BenefitCheck Check(IBenefitFacts? state, MembershipProgram program, Benefit benefit, DateTimeOffset now, Tier tier)
    {
        List<string>? sources = null;
        var unlimited = false;
        long quota = 0;
        decimal? value = null;
        foreach (var grant in benefit.Grants)
        {
            string? source = null;
            if (Contains(grant.Tiers, tier.Code)) source = "tier:" + tier.Code;
            else
            {
                foreach (var plan in grant.Plans)
                {
                    if (PlanActiveAt(state, plan, now)) { source = "plan:" + plan; break; }
                }
            }
            if (source is null) continue;

            sources ??= [];
            if (!sources.Contains(source)) sources.Add(source);
            if (grant.IsUnlimited) unlimited = true;
            else
            {
                var q = grant.Quota ?? (grant.EarnedBy is { } by ? (state?.Counter(by.Counter) ?? 0) / by.Every : 0);
                if (q > quota) quota = q;
            }
            if (grant.Value is { } v)
            {
                value = value is not { } cur ? v
                    : benefit.ValueRule == ValueRule.Lowest ? Math.Min(cur, v) : Math.Max(cur, v);
            }
        }

        if (sources is null) return new BenefitCheck(benefit.Code, false, null, null, null, [], "tier");

        int? remaining = null;
        DateTimeOffset? resetsAt = null;
        if (!unlimited)
        {
            var used = state?.BenefitUsesIn(benefit.Code, program.PeriodKey(benefit.Period, now)) ?? 0;
            remaining = (int)Math.Clamp(quota - used, 0, int.MaxValue);
            resetsAt = program.NextPeriodStart(benefit.Period, now);
        }

        string? reason = null;
        if (!InWindow(state, program, benefit.Window, now)) reason = "window";
        else if (remaining == 0) reason = "quota";
        return new BenefitCheck(benefit.Code, reason is null, value, remaining, resetsAt, sources, reason);
    }

    private static bool InWindow(IBenefitFacts? state, MembershipProgram program, BenefitWindow window, DateTimeOffset now)
    {
        if (window.BirthdayMonthOnly && !program.IsBirthdayMonth(state?.BirthMonth, now)) return false;
        if (window.FromDayOfMonth is { } day && program.Local(now).Day < day) return false;
        return true;
    }

    private static bool Contains(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value) return true;
        }
        return false;
    }
}
