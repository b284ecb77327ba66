using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>Reads of a member's state at an instant: pure, no entries written.</summary>
public static class MemberQueries
{
    /// <summary>The tier at <paramref name="at"/>, with the time growth due by then and not yet written.</summary>
    public static TierStatus TierAt(MemberState state, MembershipProgram program, DateTimeOffset at)
    {
        // With nothing due the member's own records, and its tier cache, answer.
        var growth = GrowthAt(state, program, at, out _);
        return ReferenceEquals(growth, state.Growth)
            ? state.TierAt(program, at)
            : TierPolicy.Evaluate(program, growth, state.Checkpoint, state.JoinedAt, at);
    }

    /// <summary>The member's growth records with the time growth due by <paramref name="at"/> (<see cref="TimeGrowth.Pending"/>).</summary>
    public static IReadOnlyList<GrowthRecord> GrowthAt(MemberState state, MembershipProgram program, DateTimeOffset at, out long pending)
    {
        pending = 0;
        if (!program.HasTimeGrowth || TimeGrowth.Pending(state, program, at) is not { } runs) return state.Growth;
        pending = TimeGrowth.Total(runs);
        return TimeGrowth.WithPending(state.Growth, runs, state.LastSeq + 1);
    }

    public static bool PlanActiveAt(IBenefitFacts? member, string plan, DateTimeOffset at)
        => member is not null && member.PlanActiveAt(plan, at);

    /// <summary>
    /// The member's paid membership: a plan that runs now (a paid term before a trial, then the one that
    /// runs longest), else the plan it last acted on. A member of two plans is not shown the one that expired.
    /// </summary>
    public static SubscriptionView? Subscription(MemberState state, DateTimeOffset now)
    {
        SubscriptionView? running = null;
        foreach (var p in state.Plans)
        {
            if (Subscription(p, now) is not { Status: not "expired" } view) continue;
            if (running is null || (view.Status == "active" && running.Status == "trial")
                || (view.Status == running.Status && view.ExpiresAt > running.ExpiresAt)) running = view;
        }
        return running ?? (state.LastPlan is { } plan && state.Plan(plan) is { } last ? Subscription(last, now) : null);
    }

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
        var growth = GrowthAt(state, program, now, out var pending);
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
            new GrowthView(state.LifetimeGrowth + pending, TierPolicy.QualifyingGrowth(program, growth, state.Checkpoint, now)),
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
            if (grant.When is { } when)
            {
                Tier? t = tier;
                if (!Conditions.Holds(when, program, state, now, ref t)) continue;
            }

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
        Tier? windowTier = tier;
        if (!Conditions.Holds(benefit.Window, program, state, now, ref windowTier)) reason = "window";
        else if (remaining == 0) reason = "quota";
        return new BenefitCheck(benefit.Code, reason is null, value, remaining, resetsAt, sources, reason);
    }

    /// <summary>
    /// Each plan of the program with the price of each term for this member at <paramref name="now"/>: the
    /// lowest of the term's price and the offers whose condition holds. <paramref name="state"/> null is a
    /// guest: the base tier, no plan, no birthday.
    /// </summary>
    public static PlanOffer[] Plans(MemberState? state, MembershipProgram program, DateTimeOffset now, Tier tier)
    {
        var member = state is { Enrolled: true } ? state : null;
        var offers = new List<PlanOffer>();
        foreach (var plan in program.Plans.Values.OrderBy(p => p.Code, StringComparer.Ordinal))
        {
            var terms = new List<PlanTermPrice>();
            foreach (var term in plan.TermRules)
            {
                var price = term.Price;
                foreach (var offer in term.Offers)
                {
                    Tier? t = tier;
                    if (offer.Price < price && Conditions.Holds(offer.When, program, member, now, ref t)) price = offer.Price;
                }
                terms.Add(new PlanTermPrice(term.Term, price, term.Price, term.GrowthPerDay, term.BonusGrowth));
            }
            var current = member?.Plan(plan.Code);
            var trialAvailable = plan.TrialDays is not null && current?.TrialUsed != true && !(current?.ExpiresAt > now);
            offers.Add(new PlanOffer(plan.Code, plan.Name, terms, plan.TrialDays, trialAvailable, current is null ? null : Subscription(current, now)));
        }
        return [.. offers];
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
